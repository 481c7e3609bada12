/*
 * The listen()/first-SYN race of PacketPathSystemTest, measured from the client's side.
 *
 * For each attempt i: a fresh process of LISTENER starts listening on port FIRST_PORT + i in this (the appliance's)
 * network namespace; the moment it reports that listen() returned, a client socket created beforehand in the outside
 * namespace (NETNS, a file such as /var/run/netns/NAME) connects to it, alternately over IPv4 and IPv6. The attempt
 * succeeds when the connection is made and the listener's byte 'x' arrives. WINDOW attempts run at once (1: one
 * after the other, so the connect time is not disturbed); an attempt gives up DEADLINE_MS after its connect().
 *
 * One line per attempt on standard output:  attempt I PORT FAMILY RESULT CONNECT_MICROSECONDS
 * RESULT: ok, refused (an RST came back), timeout (no answer to the SYN), noreply (connected, no byte), error,
 * nolisten (the listener never listened). CONNECT_MICROSECONDS is -1 when the connection was never made.
 *
 * usage: race LISTENER NETNS TARGET_V4 TARGET_V6 FIRST_PORT COUNT WINDOW DEADLINE_MS
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum state { FREE, CONNECTING, READING };

struct slot {
    enum state state;
    int attempt, port, fd, v6;
    pid_t pid;
    long long t0, deadline;
};

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static int epfd, inflight;

static void finish(struct slot *s, const char *result, long long connect_us) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    if (strcmp(result, "ok") != 0) {
        kill(s->pid, SIGKILL);
    }
    waitpid(s->pid, NULL, 0);
    printf("attempt %d %d %s %s %lld\n", s->attempt, s->port, s->v6 ? "ipv6" : "ipv4", result, connect_us);
    s->state = FREE;
    inflight--;
}

int main(int argc, char **argv) {
    if (argc != 9) {
        fprintf(stderr, "usage: race LISTENER NETNS TARGET_V4 TARGET_V6 FIRST_PORT COUNT WINDOW DEADLINE_MS\n");
        return 2;
    }
    const char *listener = argv[1];
    int outside = open(argv[2], O_RDONLY | O_CLOEXEC);
    int here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (outside < 0 || here < 0) {
        die("open netns");
    }
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    v4.sin_family = AF_INET;
    v6.sin6_family = AF_INET6;
    if (inet_pton(AF_INET, argv[3], &v4.sin_addr) != 1 || inet_pton(AF_INET6, argv[4], &v6.sin6_addr) != 1) {
        die("target address");
    }
    int first = atoi(argv[5]), count = atoi(argv[6]), window = atoi(argv[7]), deadline_ms = atoi(argv[8]);
    struct slot *slots = calloc(window, sizeof *slots);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    int started = 0;
    while (started < count || inflight > 0) {
        for (int k = 0; k < window && started < count; k++) {
            struct slot *s = &slots[k];
            if (s->state != FREE) {
                continue;
            }
            s->attempt = started;
            s->port = first + started;
            s->v6 = started % 2;
            started++;
            /* the client socket is made before the listener exists: nothing stands between listen() and connect() */
            if (setns(outside, CLONE_NEWNET) != 0) {
                die("setns outside");
            }
            s->fd = socket(s->v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (setns(here, CLONE_NEWNET) != 0) {
                die("setns back");
            }
            if (s->fd < 0) {
                die("socket");
            }
            int pipefd[2];
            if (pipe2(pipefd, O_CLOEXEC) != 0) {
                die("pipe");
            }
            char port[16];
            snprintf(port, sizeof port, "%d", s->port);
            char timeout[16];
            snprintf(timeout, sizeof timeout, "%d", deadline_ms + 1000);
            s->pid = fork();
            if (s->pid < 0) {
                die("fork");
            }
            if (s->pid == 0) {
                dup2(pipefd[1], 1);
                execl(listener, listener, port, timeout, (char *) NULL);
                _exit(127);
            }
            close(pipefd[1]);
            struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
            char c = 0;
            int listened = poll(&p, 1, 5000) == 1 && read(pipefd[0], &c, 1) == 1 && c == 'L';
            close(pipefd[0]);
            s->state = CONNECTING;
            inflight++;
            if (!listened) {
                finish(s, "nolisten", -1);
                continue;
            }
            s->t0 = now_us();
            s->deadline = s->t0 + deadline_ms * 1000LL;
            int r;
            if (s->v6) {
                v6.sin6_port = htons((unsigned short) s->port);
                r = connect(s->fd, (struct sockaddr *) &v6, sizeof v6);
            } else {
                v4.sin_port = htons((unsigned short) s->port);
                r = connect(s->fd, (struct sockaddr *) &v4, sizeof v4);
            }
            if (r != 0 && errno != EINPROGRESS) {
                finish(s, "error", -1);
                continue;
            }
            struct epoll_event e = { .events = EPOLLOUT, .data.u32 = (unsigned) k };
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &e) != 0) {
                die("epoll_ctl");
            }
        }
        if (inflight == 0) {
            continue;
        }
        long long next = -1;
        for (int k = 0; k < window; k++) {
            if (slots[k].state != FREE && (next < 0 || slots[k].deadline < next)) {
                next = slots[k].deadline;
            }
        }
        long long wait = next - now_us();
        struct epoll_event events[64];
        int n = epoll_wait(epfd, events, 64, wait < 0 ? 0 : (int) (wait / 1000) + 1);
        long long t = now_us();
        for (int i = 0; i < n; i++) {
            struct slot *s = &slots[events[i].data.u32];
            if (s->state == CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err != 0) {
                    finish(s, err == ECONNREFUSED ? "refused" : "error", -1);
                    continue;
                }
                s->t0 = t - s->t0; /* from now on: the connect time */
                s->state = READING;
                struct epoll_event e = { .events = EPOLLIN, .data.u32 = events[i].data.u32 };
                epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &e);
            } else if (s->state == READING) {
                char c = 0;
                ssize_t got = read(s->fd, &c, 1);
                finish(s, got == 1 && c == 'x' ? "ok" : "noreply", s->t0);
            }
        }
        t = now_us();
        for (int k = 0; k < window; k++) {
            struct slot *s = &slots[k];
            if (s->state != FREE && t >= s->deadline) {
                if (s->state == CONNECTING) {
                    finish(s, "timeout", -1);
                } else {
                    finish(s, "noreply", s->t0);
                }
            }
        }
    }
    return 0;
}
