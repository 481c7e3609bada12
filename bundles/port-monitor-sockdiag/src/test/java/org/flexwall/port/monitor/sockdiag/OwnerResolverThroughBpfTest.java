package org.flexwall.port.monitor.sockdiag;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Every owner case of {@link OwnerResolverTest}, with descriptors read by the BPF task_file iterator (root). */
class OwnerResolverThroughBpfTest extends OwnerResolverTest {
    @Override
    OwnerResolver resolver() {
        return new OwnerResolver(TaskFileIterator.open());
    }

    @Test
    void iteratorLoadsOnThisKernelAndIsUsed() {
        try (OwnerResolver r = resolver()) {
            assertTrue(r.readsThroughBpf());
        }
    }
}
