/*
 * The trusted listener of TrustedListenerChurnSystemTest, as issue 19 found the race: binds PORT on 0.0.0.0 (FAMILY
 * 4) or :: (FAMILY 6) with SO_REUSEADDR, calls listen(), prints "listening PORT" and never accepts; it waits to be
 * killed. Exit 3: the port was taken (the driver picks another).
 * usage: listener FAMILY PORT
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        return 2;
    }
    int v6 = atoi(argv[1]) == 6, port = atoi(argv[2]), one = 1;
    int s = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
        return 1;
    }
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    a4.sin_family = AF_INET;
    a4.sin_port = htons((unsigned short) port);
    a4.sin_addr.s_addr = htonl(INADDR_ANY);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((unsigned short) port);
    a6.sin6_addr = in6addr_any;
    int r = v6 ? bind(s, (struct sockaddr *) &a6, sizeof a6) : bind(s, (struct sockaddr *) &a4, sizeof a4);
    if (r != 0) {
        return 3;
    }
    if (listen(s, 16) != 0) {
        return 1;
    }
    printf("listening %d\n", port);
    fflush(stdout);
    for (;;) {
        pause();
    }
}
