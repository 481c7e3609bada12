// A trusted program that holds whatever descriptors it was given and does nothing else until killed.
#include <unistd.h>

int main(void) {
    for (;;) {
        pause();
    }
}
