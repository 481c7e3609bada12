// An LD_PRELOAD library that makes any program it is loaded into listen on the port in PRELOAD_PORT (TCP, any IPv4
// address) and answer every connection with "preloaded\n" from a thread of its own: code that is not in the image.
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void *serve(void *arg) {
    int s = (int)(long)arg;
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c >= 0) {
            write(c, "preloaded\n", 10);
            close(c);
        }
    }
    return NULL;
}

__attribute__((constructor)) static void listen_too(void) {
    const char *port = getenv("PRELOAD_PORT");
    if (!port) return;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(port)), .sin_addr.s_addr = INADDR_ANY };
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16)) return;
    pthread_t t;
    pthread_create(&t, NULL, serve, (void *)(long)s);
}
