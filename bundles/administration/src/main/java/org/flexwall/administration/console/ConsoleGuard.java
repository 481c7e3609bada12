package org.flexwall.administration.console;

import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * What keeps a browser that holds the operator's credentials from being turned against the console: requests under
 * a foreign {@code Host:} (DNS rebinding) and state changes from a foreign origin (cross-site request forgery) are
 * refused before any credential is looked at, and every answer forbids framing and content sniffing.
 */
final class ConsoleGuard {
    private static final List<String> LOOPBACK = List.of("127.0.0.1", "localhost", "[::1]");

    private final Set<String> names = new HashSet<>(); // host names valid on the port the request arrived at
    private final Set<String> authorities = new HashSet<>(); // host:port pairs valid as they are

    /**
     * @param configuredHost the address the console listens on ({@code org.apache.felix.http.host}), may be null
     * @param allowedHosts   further names under which the operator reaches the console, "name" or "name:port"
     */
    ConsoleGuard(String configuredHost, String... allowedHosts) {
        names.addAll(LOOPBACK);
        if (configuredHost != null && !configuredHost.isBlank() && !isWildcard(configuredHost.strip())) {
            names.add(bracketed(configuredHost.strip().toLowerCase(Locale.ROOT)));
        }
        for (String allowed : allowedHosts) {
            String a = allowed.strip().toLowerCase(Locale.ROOT);
            if (a.isEmpty()) {
                continue;
            }
            boolean withPort = a.startsWith("[") ? a.contains("]:") : a.indexOf(':') >= 0 && a.indexOf(':') == a.lastIndexOf(':');
            if (withPort) {
                authorities.add(authority(a, 0));
            } else {
                names.add(bracketed(a));
            }
        }
    }

    /** Why the request must be refused with 403 (the text of the answer), or null when it may go on. */
    String refusal(HttpServletRequest request) {
        String host = authority(request.getHeader("Host"), request.isSecure() ? 443 : 80);
        if (host == null || !allowedHost(host, request)) {
            return "unknown Host: the console answers only under its own address (add the name to allowed.hosts of "
                    + ConsoleSecurity.PID + " to reach it under another one)";
        }
        if (!changesState(request)) {
            return null;
        }
        String origin = request.getHeader("Origin");
        String source = origin != null ? origin : request.getHeader("Referer");
        if (source == null) {
            return "a request that changes something must say where it comes from (Origin or Referer)";
        }
        if (!host.equals(originAuthority(source))) {
            return "cross-site request refused: " + (origin != null ? "Origin" : "Referer") + " is not this console";
        }
        return null;
    }

    /** Sent on every answer, the refusals and the login challenge included. */
    static void secureHeaders(HttpServletResponse response) {
        response.setHeader("X-Frame-Options", "DENY");
        response.setHeader("Content-Security-Policy", "frame-ancestors 'none'");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "same-origin");
    }

    /** Every method but GET and HEAD changes something; so does the logout, a GET. */
    static boolean changesState(HttpServletRequest request) {
        String method = request.getMethod();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            return true;
        }
        String uri = request.getRequestURI();
        return uri != null && uri.endsWith("/logout");
    }

    private boolean allowedHost(String authority, HttpServletRequest request) {
        if (authorities.contains(authority)) {
            return true;
        }
        int colon = authority.lastIndexOf(':');
        if (!authority.substring(colon + 1).equals(Integer.toString(request.getLocalPort()))) {
            return false;
        }
        String name = authority.substring(0, colon);
        // The address the connection arrived at, written as a literal, cannot be a rebound name.
        return names.contains(name) || name.equals(bracketed(localAddress(request.getLocalAddr())));
    }

    /** "name:port" in lower case, with the scheme's port when none is given; null when malformed. */
    static String authority(String value, int defaultPort) {
        if (value == null) {
            return null;
        }
        String v = value.strip().toLowerCase(Locale.ROOT);
        String name;
        String port;
        if (v.startsWith("[")) {
            int end = v.indexOf(']');
            if (end < 0) {
                return null;
            }
            name = v.substring(0, end + 1);
            String rest = v.substring(end + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                return null;
            }
            port = rest.isEmpty() ? "" : rest.substring(1);
        } else {
            int colon = v.indexOf(':');
            name = colon < 0 ? v : v.substring(0, colon);
            port = colon < 0 ? "" : v.substring(colon + 1);
        }
        if (name.isEmpty() || !name.matches("[a-z0-9.\\-\\[\\]:]+")) {
            return null;
        }
        if (port.isEmpty()) {
            port = Integer.toString(defaultPort);
        }
        if (!port.matches("\\d{1,5}")) {
            return null;
        }
        return name + ":" + Integer.parseInt(port);
    }

    /** The "name:port" of an Origin or Referer URL; null for "null", other schemes and anything malformed. */
    static String originAuthority(String url) {
        try {
            URI uri = new URI(url.strip());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || uri.getRawAuthority() == null
                    || uri.getRawUserInfo() != null) {
                return null;
            }
            return authority(uri.getRawAuthority(), scheme.equals("https") ? 443 : 80);
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    }

    private static String localAddress(String address) {
        if (address == null) {
            return "";
        }
        String a = address.startsWith("[") && address.endsWith("]") ? address.substring(1, address.length() - 1) : address;
        return a.toLowerCase(Locale.ROOT).startsWith("::ffff:") && a.contains(".") ? a.substring(7) : a;
    }

    private static String bracketed(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }
}
