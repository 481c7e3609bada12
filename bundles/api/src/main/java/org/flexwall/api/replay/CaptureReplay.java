package org.flexwall.api.replay;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Runs a capture file (pcap or pcapng, Ethernet, Linux cooked or raw IP) through the same engine the live firewall
 * uses, packet bypass then the stateful ICF, on a private copy: the live connection table, counters and permitted
 * ports are never changed. The capture's timestamps drive the copy's clock, so flow timeouts replay as they happened.
 */
@ProviderType
public interface CaptureReplay {

    /**
     * Replays {@code capture}, streaming: memory stays bounded however long the capture is.
     *
     * @throws ReplayException with one sentence for the operator when the file is missing, unreadable, not a
     *                         capture, truncated, or of a link type that carries no IP, and when packet bypass or the
     *                         stateful ICF is not running (their factory services make the private copy)
     */
    ReplayReport replay(Path capture, ReplayOptions options) throws ReplayException;
}
