/*
 * The churn race of issue 19, driven from one process so nothing slow stands between listen() and connect(): CYCLES
 * times, LISTENER (a trusted program) is started on a random port in [FIRST, FIRST + SPAN), fresh (never used before
 * by this driver; SPAN must exceed CYCLES); as soon as it prints its line, a client socket in the outside namespace
 * (NETNS, a file such as /var/run/netns/NAME) connects to TARGET on that port; then the listener is killed. With
 * TARGET empty the driver only churns, on any port of the range: listeners start and are killed, nobody connects.
 *
 * One line per cycle on standard output:  cycle I PORT RESULT CONNECT_MICROSECONDS
 * RESULT: ok (connected within 1 s), late (connected within 5 s: its first SYN was answered late, or lost and the
 * client's retransmission 1 s on answered; a capture tells which), timeout, refused, error, churned (no client),
 * nolisten (the listener did not listen). CONNECT_MICROSECONDS is -1 when nothing connected.
 *
 * usage: churn LISTENER FAMILY NETNS TARGET FIRST SPAN CYCLES SEED
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned char used[65536];

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

/* Starts LISTENER FAMILY PORT; returns its pid and its standard output in *out. */
static pid_t start(const char *listener, const char *family, int port, FILE **out) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        die("pipe");
    }
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        die("fork");
    }
    if (pid == 0) {
        // the listener dies with this driver: a test that kills the driver must not leave it running
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
            _exit(127);
        }
        dup2(pipefd[1], 1);
        execl(listener, listener, family, p, (char *) NULL);
        _exit(127);
    }
    close(pipefd[1]);
    *out = fdopen(pipefd[0], "r");
    return pid;
}

/* Connects: "ok" within 1 s, "late" within 5 s, else "timeout", "refused" or "error"; the connect time in *micros. */
static const char *connect_once(int fd, struct sockaddr *to, socklen_t len, long long *micros) {
    long long t0 = now_us();
    int late = 0;
    if (connect(fd, to, len) != 0 && errno != EINPROGRESS) {
        return errno == ECONNREFUSED ? "refused" : "error";
    }
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    if (poll(&p, 1, 1000) != 1) {
        /* not within the second the issue allows: did it come at all (the first SYN answered late, or the
           client's retransmission 1 s on)? */
        if (poll(&p, 1, 4000) != 1) {
            return "timeout";
        }
        late = 1;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
        return err == ECONNREFUSED ? "refused" : "error";
    }
    *micros = now_us() - t0;
    return late ? "late" : "ok";
}

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: churn LISTENER FAMILY NETNS TARGET FIRST SPAN CYCLES SEED\n");
        return 2;
    }
    const char *listener = argv[1], *family = argv[2], *target = argv[4];
    int v6 = atoi(family) == 6, client = target[0] != 0;
    int first = atoi(argv[5]), span = atoi(argv[6]), cycles = atoi(argv[7]);
    srandom((unsigned) atoi(argv[8]));
    int outside = open(argv[3], O_RDONLY | O_CLOEXEC);
    int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (outside < 0 || here < 0) {
        die("open netns");
    }
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    a4.sin_family = AF_INET;
    a6.sin6_family = AF_INET6;
    if (client && (v6 ? inet_pton(AF_INET6, target, &a6.sin6_addr) : inet_pton(AF_INET, target, &a4.sin_addr)) != 1) {
        die("target address");
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    for (int i = 0; i < cycles; i++) {
        int fd = -1;
        if (client) { /* made before the listener exists: nothing stands between listen() and connect() */
            if (setns(outside, CLONE_NEWNET) != 0) {
                die("setns outside");
            }
            fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (setns(here, CLONE_NEWNET) != 0) {
                die("setns back");
            }
            if (fd < 0) {
                die("socket");
            }
        }
        FILE *out = NULL;
        pid_t pid = -1;
        int port = 0, listened = 0;
        for (int tries = 0; tries < 20 && !listened; tries++) { /* a port taken by someone else: another one */
            do { /* fresh: never one this driver used before, so each port's packets belong to one cycle */
                port = first + (int) (random() % span);
            } while (client && used[port]); /* churners only churn: any port */
            used[port] = 1;
            pid = start(listener, family, port, &out);
            char line[64];
            listened = fgets(line, sizeof line, out) != NULL && strncmp(line, "listening ", 10) == 0;
            if (!listened) {
                fclose(out);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
            }
        }
        const char *result = "nolisten";
        long long micros = -1;
        if (listened && client) {
            if (v6) {
                a6.sin6_port = htons((unsigned short) port);
                result = connect_once(fd, (struct sockaddr *) &a6, sizeof a6, &micros);
            } else {
                a4.sin_port = htons((unsigned short) port);
                result = connect_once(fd, (struct sockaddr *) &a4, sizeof a4, &micros);
            }
        } else if (listened) {
            result = "churned";
        }
        if (listened) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            fclose(out);
        }
        if (fd >= 0) {
            close(fd);
        }
        printf("cycle %d %d %s %lld\n", i, port, result, micros);
    }
    return 0;
}
