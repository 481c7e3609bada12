package org.flexwall.hook.nfqueue;

import java.nio.ByteBuffer;

/**
 * Turns the verdicts of one receive batch into as few messages as possible: each run of equal (verdict, mark) in
 * packet order becomes one NFQNL_MSG_VERDICT_BATCH for the run's last id. That is exact because packets are decided in
 * id order, so when a run's message is written every earlier packet already has its verdict.
 */
final class VerdictBatcher {
    /** Where finished messages go when the buffer is full, and at the end of a batch. */
    interface Sink {
        void send(ByteBuffer buffer, int length);
    }

    private final ByteBuffer out;
    private final int queueNum;
    private final Sink sink;
    private int position;
    private boolean open;
    private int runVerdict;
    private long runMark;
    private int runLastId;
    private long messages;

    VerdictBatcher(ByteBuffer out, int queueNum, Sink sink) {
        if (out.capacity() < 2 * Nfq.VERDICT_MSG_MAX) {
            throw new IllegalArgumentException("verdict buffer too small: " + out.capacity());
        }
        this.out = out;
        this.queueNum = queueNum;
        this.sink = sink;
    }

    /**
     * Adds the verdict for packet {@code id}; ids must come in the order the kernel queued them.
     *
     * @param mark the mark to set, or -1 to leave the packet's mark as it is
     */
    void add(int id, int verdict, long mark) {
        if (open && verdict == runVerdict && mark == runMark) {
            runLastId = id;
            return;
        }
        closeRun();
        open = true;
        runVerdict = verdict;
        runMark = mark;
        runLastId = id;
    }

    /** Writes the open run and hands everything written to the sink. */
    void flush() {
        closeRun();
        if (position > 0) {
            sink.send(out, position);
            position = 0;
        }
    }

    /** Verdict messages written since start. */
    long messages() {
        return messages;
    }

    private void closeRun() {
        if (!open) {
            return;
        }
        if (position + Nfq.VERDICT_MSG_MAX > out.capacity()) {
            sink.send(out, position);
            position = 0;
        }
        position = Nfq.verdictBatch(out, position, queueNum, runVerdict, runLastId, runMark);
        messages++;
        open = false;
    }
}
