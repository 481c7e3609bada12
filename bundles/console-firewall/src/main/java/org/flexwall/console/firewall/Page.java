package org.flexwall.console.firewall;

/** The page's markup: empty tables the script fills in. Nothing in it comes from outside but two escaped values. */
final class Page {
    private Page() {}

    static String html(String pluginRoot, String token) {
        String root = attribute(pluginRoot);
        return """
                <div id="fw" data-root="ROOT" data-token="TOKEN">
                <p id="fw-status" class="fw-status" role="status">loading…</p>
                <p id="fw-message" class="fw-message" role="alert" hidden></p>

                <section id="fw-waiting-section">
                <h2>Listeners waiting for trust</h2>
                <p class="fw-hint">Programs listening now whose ports stay closed because nobody trusts them.
                Trust one and its ports open while it listens.</p>
                <div class="fw-scroll"><table id="fw-waiting" class="nicetable fw-table">
                <thead><tr><th>Program</th><th>SHA-256</th><th>User</th><th>PID</th><th>Ports</th><th>Dropped attempts</th><th></th></tr></thead>
                <tbody></tbody></table></div>
                </section>

                <section>
                <h2>Trusted programs</h2>
                <div class="fw-scroll"><table id="fw-programs" class="nicetable fw-table">
                <thead><tr><th>Name</th><th>Path</th><th>SHA-256</th><th>Only</th><th>State</th><th></th></tr></thead>
                <tbody></tbody></table></div>
                <form id="fw-add" class="fw-add">
                <label>Path <input name="path" required placeholder="/usr/sbin/sshd" size="28"></label>
                <label>Name <input name="name" placeholder="(file name)" size="14"></label>
                <label>User <input name="user" placeholder="(any)" size="8"></label>
                <label>Unit <input name="unit" placeholder="(any)" size="10"></label>
                <button type="submit">Trust (hashed on the appliance)</button>
                </form>
                </section>

                <section>
                <h2>Permitted ports</h2>
                <div class="fw-scroll"><table id="fw-permitted" class="nicetable fw-table">
                <thead><tr><th>Protocol</th><th>Family</th><th>Port</th><th>Program</th><th>PID</th><th>Since</th><th>Packets</th><th>Bytes</th></tr></thead>
                <tbody></tbody></table></div>
                <h3>Refused sockets</h3>
                <div class="fw-scroll"><table id="fw-refused" class="nicetable fw-table">
                <thead><tr><th>Protocol</th><th>Port</th><th>Held by</th><th>Reason</th></tr></thead>
                <tbody></tbody></table></div>
                </section>

                <section>
                <h2>Dropped inbound attempts</h2>
                <p id="fw-drops-note" class="fw-hint"></p>
                <div class="fw-scroll"><table id="fw-drops" class="nicetable fw-table">
                <thead><tr><th>Source</th><th>Protocol</th><th>Port</th><th>Count</th><th>First seen</th><th>Last seen</th></tr></thead>
                <tbody></tbody></table></div>
                </section>

                <section>
                <h2>Packet path</h2>
                <ul id="fw-hooks" class="fw-hooks"></ul>
                <p id="fw-figures" class="fw-figures"></p>
                <svg id="fw-chart" class="fw-chart" viewBox="0 0 300 60" preserveAspectRatio="none" role="img"
                     aria-label="decisions and drops per second, last five minutes"></svg>
                <p class="fw-legend"><span class="fw-l-dec">decisions/s</span> <span class="fw-l-drop">drops/s</span>
                (last 5 minutes)</p>
                </section>

                <section>
                <h2>Audit trail</h2>
                <label>Filter <input id="fw-audit-filter" placeholder="text in the entry" size="24"></label>
                <p id="fw-audit-problem" class="fw-hint"></p>
                <div class="fw-scroll"><table id="fw-audit" class="nicetable fw-table">
                <thead><tr><th>Time</th><th>Who</th><th>What</th></tr></thead>
                <tbody></tbody></table></div>
                </section>
                </div>
                <script src="ROOT/res/firewall.js"></script>
                """.replace("ROOT", root).replace("TOKEN", attribute(token));
    }

    /** Safe inside a double-quoted attribute and free of the console's ${…} variables. */
    static String attribute(String s) {
        return s.replace("&", "&amp;").replace("\"", "&quot;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("$", "&#36;");
    }
}
