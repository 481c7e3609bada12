// SPDX-License-Identifier: GPL-2.0
/*
 * flexwall port monitor: every socket descriptor of every process, as (pid, fd, socket inode) records, from one
 * read of a BPF task_file iterator. It replaces one readlinkat per descriptor under /proc/PID/fd (the cost of a full
 * owner scan) with a walk inside the kernel. Loaded by TaskFileIterator.java through libbpf; compiled by compile.sh.
 *
 * The kernel types below are only the fields read: preserve_access_index makes libbpf relocate each field to the
 * running kernel's layout (CO-RE, from /sys/kernel/btf/vmlinux), so no kernel headers are needed to build.
 */
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define S_IFMT 0170000
#define S_IFSOCK 0140000

struct seq_file;
struct files_struct;
struct bpf_iter_meta {
    struct seq_file *seq;
    __u64 session_id;
    __u64 seq_num;
};
struct upid {
    int nr;
    void *ns;
} __attribute__((preserve_access_index));
struct pid {
    unsigned int level;
    struct upid numbers[1];
} __attribute__((preserve_access_index));
struct inode {
    unsigned short i_mode;
    unsigned long i_ino;
} __attribute__((preserve_access_index));
struct file {
    struct inode *f_inode;
} __attribute__((preserve_access_index));
struct task_struct {
    struct task_struct *group_leader;
    struct pid *thread_pid;
    struct files_struct *files;
} __attribute__((preserve_access_index));
struct bpf_iter__task_file {
    struct bpf_iter_meta *meta;
    struct task_struct *task;
    __u32 fd;
    struct file *file;
};

/* One record, 16 bytes, host byte order; TaskFileIterator.RECORD reads the same layout. */
struct descriptor {
    __u32 pid;
    __u32 fd;
    __u64 inode;
};

SEC("iter/task_file")
int socket_descriptors(struct bpf_iter__task_file *ctx)
{
    struct task_struct *task = ctx->task;
    struct file *file = ctx->file;
    if (!task || !file)
        return 0;
    if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
        return 0;
    /* The pid as the reader's pid namespace numbers it (the one its /proc shows): the iterator walks the tasks of
     * that namespace, whose level is the reader's own. A thread with a descriptor table of its own (unshare of
     * CLONE_FILES) is named by its thread id, whose /proc/TID/fd shows that table; every other one by its process. */
    struct task_struct *reader = (struct task_struct *)bpf_get_current_task_btf();
    unsigned int level = BPF_CORE_READ(reader, thread_pid, level);
    struct task_struct *leader = BPF_CORE_READ(task, group_leader);
    struct task_struct *named = BPF_CORE_READ(task, files) == BPF_CORE_READ(leader, files) ? leader : task;
    struct pid *pid = BPF_CORE_READ(named, thread_pid);
    struct descriptor d = { .fd = ctx->fd, .inode = BPF_CORE_READ(file, f_inode, i_ino) };
    if (level > 32 || bpf_core_read(&d.pid, sizeof d.pid, &pid->numbers[level].nr))
        return 0;
    bpf_seq_write(ctx->meta->seq, &d, sizeof d);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
