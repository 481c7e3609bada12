package org.flexwall.administration.console;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jakarta.servlet.http.HttpServletRequest;

/** Which Host, Origin and Referer values the console accepts; the system tests send them over real HTTP. */
class ConsoleGuardTest {
    private final ConsoleGuard guard = new ConsoleGuard("192.168.1.1", "gateway.lan", "fw.example:443");

    @Test
    void ownNamesOnTheConsolePortAreAcceptedAndAnyOtherNameOrPortIsRefused() {
        for (String host : new String[] { "127.0.0.1:8080", "localhost:8080", "[::1]:8080", "192.168.1.1:8080",
                "gateway.lan:8080", "GATEWAY.LAN:8080", "fw.example:443", "10.0.0.5:8080" }) {
            assertNull(guard.refusal(request("GET", host, null, null)), host);
        }
        for (String host : new String[] { "evil.example:8080", "127.0.0.1:8081", "gateway.lan", "fw.example:8080",
                "127.0.0.1.evil.example:8080", "", "[::1", "localhost:80x" }) {
            assertNotNull(guard.refusal(request("GET", host, null, null)), host);
        }
        assertNotNull(guard.refusal(request("GET", null, null, null)), "no Host at all");
    }

    @Test
    void stateChangesMustComeFromTheConsolesOwnOrigin() {
        assertNull(guard.refusal(request("POST", "127.0.0.1:8080", "http://127.0.0.1:8080", null)));
        assertNull(guard.refusal(request("POST", "gateway.lan:8080", null, "http://gateway.lan:8080/system/console/bundles")));
        assertNotNull(guard.refusal(request("POST", "127.0.0.1:8080", "http://evil.example", null)));
        assertNotNull(guard.refusal(request("POST", "127.0.0.1:8080", "null", null)));
        assertNotNull(guard.refusal(request("POST", "127.0.0.1:8080", "http://localhost:8080", null)),
                "another of the console's names is another origin");
        assertNotNull(guard.refusal(request("POST", "127.0.0.1:8080", null, "http://evil.example/x")));
        assertNotNull(guard.refusal(request("POST", "127.0.0.1:8080", "http://evil.example",
                "http://127.0.0.1:8080/system/console")), "Origin wins over Referer");
        assertNotNull(guard.refusal(request("POST", "127.0.0.1:8080", null, null)));
        assertNotNull(guard.refusal(request("GET", "127.0.0.1:8080", null, null, "/system/console/logout")));
        assertNull(guard.refusal(request("GET", "127.0.0.1:8080", "http://evil.example", null)),
                "reading is not changing: a page cannot read the answer of a cross-site GET");
    }

    @Test
    void wildcardAddressIsNoNameButTheAddressARequestArrivedAtIs() {
        ConsoleGuard anyAddress = new ConsoleGuard("0.0.0.0");
        assertNull(anyAddress.refusal(request("GET", "10.0.0.5:8080", null, null)));
        assertNotNull(anyAddress.refusal(request("GET", "0.0.0.0:8080", null, null)));
    }

    private static HttpServletRequest request(String method, String host, String origin, String referer) {
        return request(method, host, origin, referer, "/system/console/bundles/3");
    }

    /** A request that arrived at 10.0.0.5:8080 with these headers. */
    private static HttpServletRequest request(String method, String host, String origin, String referer, String uri) {
        Map<String, String> headers = new HashMap<>();
        headers.put("host", host);
        headers.put("origin", origin);
        headers.put("referer", referer);
        return (HttpServletRequest) Proxy.newProxyInstance(ConsoleGuardTest.class.getClassLoader(),
                new Class<?>[] { HttpServletRequest.class }, (proxy, m, args) -> switch (m.getName()) {
                    case "getHeader" -> headers.get(((String) args[0]).toLowerCase());
                    case "getMethod" -> method;
                    case "getRequestURI" -> uri;
                    case "getLocalPort" -> 8080;
                    case "getLocalAddr" -> "10.0.0.5";
                    case "isSecure" -> false;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }
}
