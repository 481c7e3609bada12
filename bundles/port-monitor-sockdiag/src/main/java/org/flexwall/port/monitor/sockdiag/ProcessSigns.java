package org.flexwall.port.monitor.sockdiag;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What /proc tells about a process beyond its image: its real uid, its systemd unit, and the cheap signs that code
 * other than the image's may run in it (DESIGN principle 8): a tracer, a dynamic-loader variable that loads other
 * code (LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH), an image run from a memfd or a deleted file.
 *
 * @param uid      the real uid, or -1 when /proc/PID/status could not be read
 * @param unit     the systemd system unit ("sshd.service") or null
 * @param tampered the signs found, in words, or null when there are none
 */
record ProcessSigns(int uid, String unit, String tampered) {
    /** The dynamic loader's variables that make a program run code that is not in its image. */
    static final List<String> LOADER_VARIABLES = List.of("LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH");
    private static final int MAX_SHOWN = 120;

    /** Reads the signs of process {@code pid}, whose running image is at {@code exe} (as /proc/PID/exe says). */
    static ProcessSigns of(int pid, Path exe) {
        return of(new ProcFs(), pid, exe);
    }

    /** As {@link #of(int, Path)}, through the caller's /proc reader. */
    static ProcessSigns of(ProcFs proc, int pid, Path exe) {
        return of(proc, pid, Image.of(proc, pid, exe));
    }

    /** The signs of process {@code pid} that may change at any moment (its uid, a tracer), read now, with {@code image}'s. */
    static ProcessSigns of(ProcFs proc, int pid, Image image) {
        List<String> signs = new ArrayList<>();
        int uid = -1;
        String status = text(proc.read(pid, "/status"));
        if (status == null) {
            signs.add("its /proc/" + pid + "/status could not be read");
        } else {
            uid = (int) field(status, "Uid:");
            long tracer = field(status, "TracerPid:");
            if (tracer != 0) {
                signs.add(tracer > 0 ? "it is traced by pid " + tracer + " (TracerPid), which can change its code"
                        : "its TracerPid could not be read");
            }
        }
        signs.addAll(image.signs());
        return new ProcessSigns(uid, image.unit(), signs.isEmpty() ? null : String.join("; ", signs));
    }

    /**
     * The signs that come with what a process exec'd and stay until its next exec: the loader variables of its
     * environment, an image from a memfd or a deleted file; and its systemd unit, which only root can change.
     *
     * @param unit  the systemd system unit or null
     * @param signs the signs found, in words
     */
    record Image(String unit, List<String> signs) {
        static Image of(ProcFs proc, int pid, Path exe) {
            List<String> signs = new ArrayList<>();
            byte[] environ = proc.read(pid, "/environ");
            if (environ == null) {
                signs.add("its environment (/proc/" + pid + "/environ) could not be read");
            } else {
                signs.addAll(loaderVariables(environ));
            }
            if (exe != null) {
                String image = exe.toString();
                if (image.startsWith("/memfd:")) {
                    signs.add("it runs an image from a memfd (" + shown(image) + "), not from a file");
                } else if (image.endsWith(" (deleted)")) {
                    signs.add("it runs a deleted file (" + shown(image) + ")");
                }
            }
            String cgroup = text(proc.read(pid, "/cgroup"));
            return new Image(cgroup == null ? null : ProcessSigns.unit(cgroup), List.copyOf(signs));
        }
    }

    /** The loader variables set (non-empty) in a NUL-separated environment, each as a sign in words. */
    static List<String> loaderVariables(byte[] environ) {
        List<String> found = new ArrayList<>();
        for (int start = 0, end; start < environ.length; start = end + 1) {
            end = start;
            while (end < environ.length && environ[end] != 0) {
                end++;
            }
            // only entries beginning "LD_" become text: an environment is mostly other variables
            if (end - start > 3 && environ[start] == 'L' && environ[start + 1] == 'D' && environ[start + 2] == '_') {
                String entry = new String(environ, start, end - start, StandardCharsets.UTF_8);
                int eq = entry.indexOf('=');
                if (eq > 0 && eq < entry.length() - 1 && LOADER_VARIABLES.contains(entry.substring(0, eq))) {
                    found.add("it runs with " + shown(entry) + " in its environment, which loads code from outside its "
                            + "image");
                }
            }
        }
        return found;
    }

    /**
     * The systemd system unit of a /proc/PID/cgroup text: the first ".service" name on the unified hierarchy's path
     * ("0::/system.slice/nginx.service" gives nginx.service; a user's own units all sit below user@UID.service, so a
     * user cannot make a process look like a system unit). Null outside any service.
     */
    static String unit(String cgroup) {
        for (String line : cgroup.split("\n")) {
            if (!line.startsWith("0::")) {
                continue;
            }
            for (String part : line.substring(3).split("/")) {
                if (part.endsWith(".service")) {
                    return part;
                }
            }
        }
        return null;
    }

    /** The first number after {@code key} at the start of a line of /proc/PID/status; -1 when absent. */
    static long field(String status, String key) {
        int at = status.startsWith(key) ? 0 : status.indexOf("\n" + key);
        if (at < 0) {
            return -1;
        }
        int i = at == 0 ? key.length() : at + 1 + key.length();
        while (i < status.length() && (status.charAt(i) == ' ' || status.charAt(i) == '\t')) {
            i++;
        }
        int from = i;
        if (i < status.length() && status.charAt(i) == '-') {
            i++;
        }
        while (i < status.length() && Character.isDigit(status.charAt(i))) {
            i++;
        }
        try {
            return Long.parseLong(status.substring(from, i));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Attacker-chosen text, made safe and short for a log line. */
    private static String shown(String s) {
        String clean = s.replaceAll("\\p{Cntrl}", "?");
        return clean.length() <= MAX_SHOWN ? clean : clean.substring(0, MAX_SHOWN) + "…";
    }

    private static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }
}
