// LD_PRELOAD shim for run.py's MARK=1: every socket the server opens carries flexwall's verified-socket mark
// (Marks.VERIFIED_SOCKET), as the port store would set on a trusted program's socket, so the shipped rules' socket
// lookups match as they do in the appliance. Accepted TCP sockets inherit their listener's mark.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol) {
    static int (*real)(int, int, int);
    if (!real) real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    int fd = real(domain, type, protocol);
    unsigned mark = 0x10000000;
    if (fd >= 0 && (domain == AF_INET || domain == AF_INET6)) setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    return fd;
}
