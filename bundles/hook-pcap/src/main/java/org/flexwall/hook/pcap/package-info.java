/** The libpcap hook (pcap4j): an inline bridge between two interfaces, or a monitor of one. Private. */
package org.flexwall.hook.pcap;
