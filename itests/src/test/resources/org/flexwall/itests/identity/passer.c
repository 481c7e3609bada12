// A trusted program that hands its listening socket on through SCM_RIGHTS, as a socket-activation manager does:
// listens on PORT (TCP, any IPv4 address), listens on the Unix socket PATH, prints "listening", and sends its
// listening socket to every process that connects to PATH, keeping its own copy.
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s PORT PATH\n", argv[0]); return 2; }
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = INADDR_ANY };
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16)) { perror("listen"); return 1; }
    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un path = { .sun_family = AF_UNIX };
    strncpy(path.sun_path, argv[2], sizeof path.sun_path - 1);
    if (u < 0 || bind(u, (struct sockaddr *)&path, sizeof path) || listen(u, 4)) { perror("unix"); return 1; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("listening\n");
    for (;;) {
        int c = accept(u, NULL, NULL);
        if (c < 0) continue;
        char byte = 0, control[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
        struct cmsghdr *h = CMSG_FIRSTHDR(&m);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(h), &s, sizeof(int));
        sendmsg(c, &m, 0);
        close(c);
    }
}
