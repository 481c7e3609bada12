/*
 * A server for PacketPathSystemTest: listens on one TCP port (IPv4 and IPv6), writes "L" to standard output as soon
 * as listen() returned, serves one connection with the byte 'x' and exits (or exits when nobody came in time).
 * usage: listener PORT ACCEPT_TIMEOUT_MS
 */
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        return 2;
    }
    int s = socket(AF_INET6, SOCK_STREAM, 0);
    int zero = 0, one = 1;
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons((unsigned short) atoi(argv[1]));
    a.sin6_addr = in6addr_any;
    if (s < 0 || bind(s, (struct sockaddr *) &a, sizeof a) != 0 || listen(s, 16) != 0) {
        return 1;
    }
    if (write(1, "L", 1) != 1) {
        return 1;
    }
    struct pollfd p = { .fd = s, .events = POLLIN };
    if (poll(&p, 1, atoi(argv[2])) == 1) {
        int c = accept(s, NULL, NULL);
        if (c >= 0 && write(c, "x", 1) == 1) {
            close(c);
            return 0;
        }
    }
    return 3;
}
