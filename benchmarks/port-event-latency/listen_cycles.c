// One trusted program for the event-latency benchmark: opens and closes a TCP listener on one port, again and
// again, reading CLOCK_MONOTONIC and CLOCK_REALTIME right after listen() and close() return, and waiting for a line
// on stdin before each next step (the benchmark answers once it has seen the appliance react). It prints the stamps
// QUIET_US microseconds later (default 20000): the benchmark woken by the line would otherwise compete for a CPU with
// the appliance in the very interval being measured.
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s PORT CYCLES\n", argv[0]); return 2; }
    int port = atoi(argv[1]), cycles = atoi(argv[2]);
    const char *q = getenv("QUIET_US");
    useconds_t quiet = q ? (useconds_t)atoi(q) : 20000;
    char line[16];
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < cycles; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY };
        if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16)) { perror("listen"); return 1; }
        long long mono = ns(CLOCK_MONOTONIC), real = ns(CLOCK_REALTIME);
        usleep(quiet);
        printf("listening %lld %lld\n", mono, real);
        if (!fgets(line, sizeof line, stdin)) return 0;
        close(s);
        mono = ns(CLOCK_MONOTONIC);
        real = ns(CLOCK_REALTIME);
        usleep(quiet);
        printf("closed %lld %lld\n", mono, real);
        if (!fgets(line, sizeof line, stdin)) return 0;
    }
    return 0;
}
