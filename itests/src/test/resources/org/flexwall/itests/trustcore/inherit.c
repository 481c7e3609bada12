// A trusted program that hands its listening socket on (issue 3, "inherited socket"): listens on PORT (TCP, any IPv4
// address), prints "listening", waits for a line on stdin, then forks a child that execs COMMAND with the socket
// still open in it (no close-on-exec), prints "child PID" and keeps its own copy until stdin closes or it is killed.
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s PORT COMMAND [ARG...]\n", argv[0]); return 2; }
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = INADDR_ANY };
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16)) { perror("listen"); return 1; }
    char line[16];
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("listening\n");
    if (!fgets(line, sizeof line, stdin)) return 0;
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        execv(argv[2], argv + 2);
        perror("execv");
        _exit(127);
    }
    printf("child %d\n", (int)child);
    while (fgets(line, sizeof line, stdin)) {
    }
    return 0;
}
