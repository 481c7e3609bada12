/* The Firewall page: polls state.json once a second and fills the tables with textContent only, so whatever a
   program is called is shown as text. Actions are POSTs carrying the page's token. */
(function () {
  'use strict';
  var page = document.getElementById('fw');
  // from the origin: a page opened as http://user:password@host/ would otherwise hand fetch() a URL with credentials
  var root = location.origin + page.getAttribute('data-root');
  var token = page.getAttribute('data-token');
  var filterInput = document.getElementById('fw-audit-filter');
  var failures = 0;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }

  function row(cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) {
      var td = document.createElement('td');
      if (c instanceof Node) { td.appendChild(c); } else { td.textContent = c === null || c === undefined ? '' : String(c); }
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(id, rows, empty, columns) {
    var body = document.querySelector('#' + id + ' tbody');
    body.textContent = '';
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var td = el('td', empty, 'fw-empty');
      td.colSpan = columns;
      tr.appendChild(td);
      body.appendChild(tr);
      return body;
    }
    // each cell carries its column's name: a phone shows a row as a card of labelled lines
    var labels = Array.prototype.map.call(document.querySelectorAll('#' + id + ' thead th'),
      function (th) { return th.textContent; });
    rows.forEach(function (r) {
      Array.prototype.forEach.call(r.cells, function (td, i) { td.setAttribute('data-label', labels[i] || ''); });
      body.appendChild(r);
    });
    return body;
  }

  function shortHash(sha, md5) {
    var s = el('span', sha ? sha.substring(0, 12) + '…' : '?', 'fw-hash');
    s.title = 'SHA-256 ' + (sha || 'unknown') + (md5 ? '\nMD5 ' + md5 : '');
    return s;
  }

  function time(iso) {
    if (!iso) { return ''; }
    var d = new Date(iso);
    return d.toLocaleDateString() === new Date().toLocaleDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }

  function say(text, ok) {
    var m = document.getElementById('fw-message');
    m.textContent = text;
    m.className = 'fw-message ' + (ok ? 'fw-ok' : 'fw-error');
    m.hidden = false;
  }

  function post(action, fields, button) {
    if (button) { button.disabled = true; }
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { body.append(k, fields[k] === null ? '' : fields[k]); });
    return fetch(root + '/' + action, {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'X-Flexwall-Token': token }
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, message: 'HTTP ' + r.status }; });
    }).then(function (answer) {
      say(answer.message, answer.ok);
      poll(true);
      return answer;
    }).catch(function (e) {
      say('the appliance did not answer: ' + e, false);
    }).finally(function () {
      if (button) { button.disabled = false; }
    });
  }

  function renderWaiting(list) {
    var rows = list.map(function (w) {
      var action;
      if (w.oneClick) {
        action = el('button', 'Trust', 'fw-trust');
        action.type = 'button';
        action.title = 'Trust exactly this image (SHA-256 ' + w.sha256 + ')';
        action.addEventListener('click', function () {
          post('trust-listener', { pid: w.pid, startTime: w.startTime, sha256: w.sha256 }, action);
        });
      } else {
        action = el('span', w.interpreter ? 'interpreter: not one-click' : 'not one-click', 'fw-noclick');
        action.title = w.why || '';
      }
      var program = el('span', w.executable, 'fw-exe');
      var tr = row([program, shortHash(w.sha256), w.user, w.pid, w.ports.join(', '), w.dropped, action]);
      tr.setAttribute('data-pid', w.pid);
      tr.className = 'fw-waiting-row';
      return tr;
    });
    fill('fw-waiting', rows, 'no untrusted program listens on a reachable port', 7);
  }

  // a remove asks once more; the question outlives the table's redraws for five seconds
  var armed = { path: null, until: 0 };
  function renderPrograms(list) {
    var rows = list.map(function (p) {
      var sure = armed.path === p.path && Date.now() < armed.until;
      var remove = el('button', sure ? 'Remove: sure?' : 'Remove', 'fw-remove');
      remove.type = 'button';
      remove.addEventListener('click', function () {
        if (!(armed.path === p.path && Date.now() < armed.until)) {
          armed = { path: p.path, until: Date.now() + 5000 };
          remove.textContent = 'Remove: sure?';
          setTimeout(function () { last.programs = null; }, 5000); // redrawn as "Remove" once the question lapsed
          return;
        }
        armed = { path: null, until: 0 };
        post('remove', { path: p.path }, remove);
      });
      var state = el('span', p.state, p.differs ? 'fw-bad' : p.listening ? 'fw-good' : 'fw-idle');
      var tr = row([el('span', p.name, 'fw-name'), p.path, shortHash(p.sha256, p.md5),
        (p.restrictions || 'any user, any unit') + (p.interpreter ? '; interpreter' : ''), state, remove]);
      tr.setAttribute('data-path', p.path);
      tr.className = 'fw-program-row';
      return tr;
    });
    fill('fw-programs', rows, 'no program is trusted: every port is closed', 6);
  }

  function renderPorts(state) {
    fill('fw-permitted', state.permitted.map(function (p) {
      var tr = row([p.protocol, p.family, p.port, p.program, p.pids.join(', '), time(p.since),
        p.packets === undefined ? '?' : p.packets, p.bytes === undefined ? '?' : p.bytes]);
      tr.setAttribute('data-port', p.protocol + '/' + p.port);
      tr.setAttribute('data-family', p.family);
      return tr;
    }), state.storeProblem || 'no port is open', 8);
    fill('fw-refused', state.refused.map(function (r) {
      return row([r.protocol + ' (' + r.family + ')', r.address + ':' + r.port,
        r.owners.map(function (o) { return o.executable + ' [' + o.pid + ', ' + o.user + ']'; }).join('; '), r.reason]);
    }), 'none', 4);
  }

  function renderDrops(state) {
    fill('fw-drops', state.drops.map(function (d) {
      return row([d.source, d.protocol, d.port, d.count, time(d.firstSeen), time(d.lastSeen)]);
    }), 'nothing dropped yet', 6);
    document.getElementById('fw-drops-note').textContent = state.dropsCounted + ' attempts dropped since the appliance '
      + 'started, from ' + state.dropSources + ' sources and ports remembered (at most 8192 here; the kernel record holds '
      + state.dropCapacity + '); the ' + state.drops.length + ' most recent shown';
  }

  function renderPath(path) {
    var hooks = document.getElementById('fw-hooks');
    hooks.textContent = '';
    if (path.hooks.length === 0) { hooks.appendChild(el('li', 'no packet hook is running', 'fw-bad')); }
    path.hooks.forEach(function (h) {
      var li = el('li', null, h.problem ? 'fw-bad' : '');
      li.appendChild(el('strong', h.name));
      li.appendChild(document.createTextNode(': ' + h.status + (h.problem ? ' — ' + h.problem : '')));
      hooks.appendChild(li);
    });
    var f = document.getElementById('fw-figures');
    f.textContent = path.conntrack === undefined ? 'measuring…'
      : 'decisions in user space ' + path.decisionsPerSecond + '/s · dropped attempts ' + path.dropsPerSecond
        + '/s · queue drops ' + path.queueDropsPerSecond + '/s (' + path.queueDropsTotal + ' in all) · connection table '
        + (path.conntrack < 0 ? 'not loaded' : path.conntrack + ' of ' + path.conntrackMax);
    var svg = document.getElementById('fw-chart');
    svg.textContent = '';
    var h = path.history;
    var max = 1;
    h.forEach(function (s) { max = Math.max(max, s[1], s[2]); });
    [1, 2].forEach(function (i) {
      var line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
      var latest = h.length ? h[h.length - 1][0] : 0; // x is the time: unwatched, the page is sampled less often
      var points = h.map(function (s) { return (300 - (latest - s[0])) + ',' + (58 - 56 * s[i] / max).toFixed(1); });
      line.setAttribute('points', points.join(' '));
      line.setAttribute('class', i === 1 ? 'fw-l-dec' : 'fw-l-drop');
      svg.appendChild(line);
    });
  }

  function renderAudit(audit) {
    var problem = document.getElementById('fw-audit-problem');
    problem.textContent = audit.available ? (audit.problem || '') : audit.problem;
    fill('fw-audit', (audit.entries || []).map(function (e) {
      return row([time(e.time), e.actor || '', e.summary]);
    }), audit.available ? 'no entries' : 'audit trail not available', 3);
  }

  // a table is redrawn only when what it shows changed: buttons stay under the pointer, hover texts stay open
  var last = {};
  function changed(name, value) {
    var text = JSON.stringify(value);
    if (last[name] === text) { return false; }
    last[name] = text;
    return true;
  }

  function render(state) {
    if (changed('waiting', state.waiting)) { renderWaiting(state.waiting); }
    if (changed('programs', state.programs)) { renderPrograms(state.programs); }
    if (changed('ports', [state.permitted, state.refused, state.storeProblem || ''])) { renderPorts(state); }
    if (changed('drops', [state.drops, state.dropSources, state.dropsCounted])) { renderDrops(state); }
    renderPath(state.path);
    if (changed('audit', state.audit)) { renderAudit(state.audit); }
    var problems = [state.registryProblem, state.monitorProblem, state.storeProblem].filter(Boolean);
    var status = document.getElementById('fw-status');
    status.textContent = (problems.length ? problems.join('; ') + ' · ' : '') + 'updated ' + time(state.time);
    status.className = 'fw-status' + (problems.length ? ' fw-bad' : '');
  }

  var timer = null;
  var inFlight = false;
  function poll(now) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (inFlight && !now) { return; }
    inFlight = true;
    fetch(root + '/state.json?audit=' + encodeURIComponent(filterInput.value), { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
      .then(function (state) { failures = 0; render(state); })
      .catch(function (e) {
        failures++;
        var status = document.getElementById('fw-status');
        status.textContent = 'cannot reach the appliance (' + e.message + '); retrying';
        status.className = 'fw-status fw-bad';
      })
      .finally(function () {
        inFlight = false;
        timer = setTimeout(poll, failures > 5 ? 5000 : 1000);
      });
  }

  document.getElementById('fw-add').addEventListener('submit', function (event) {
    event.preventDefault();
    var form = event.target;
    post('add', { path: form.path.value, name: form.name.value, user: form.user.value, unit: form.unit.value },
      form.querySelector('button')).then(function (answer) { if (answer && answer.ok) { form.reset(); } });
  });
  filterInput.addEventListener('input', function () { poll(true); });
  poll(true);
})();
