/* deal playground: the editor, the events pane, the what-ifs and the
   as-of slider, each change sent to the server and the report redrawn. */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var initial = JSON.parse($('initial').textContent);
  var contract = $('contract'), events = $('events'), backdrop = $('backdrop'), gutter = $('gutter');
  var slider = $('asof'), asofText = $('asof-text'), status = $('status'), report = $('report');
  var decl = { events: [], parties: [], terms: [] };
  var range = null, atDate = '', lastDiags = [];
  var checkTimer = null, runTimer = null, runSeq = 0, checkSeq = 0;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function setStatus(text, bad) { status.textContent = text; status.classList.toggle('bad', !!bad); }

  async function post(path, body) {
    var r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    var data;
    try { data = await r.json(); } catch (e) { data = { error: r.status === 413 ? 'the request is too large for the playground (8 MiB at most)' : 'the server answered ' + r.status }; }
    if (!r.ok && !data.error) data.error = 'the server answered ' + r.status;
    return data;
  }

  /* ---- the editor: line numbers, underlined spans, diagnostics ---- */
  function lineStarts(text) {
    var starts = [0];
    for (var i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
    return starts;
  }
  function byteToChar(text, offset) {
    // Spans are byte offsets in UTF-8; the textarea counts UTF-16 units.
    var enc = new TextEncoder(), bytes = 0;
    for (var i = 0; i < text.length; i++) {
      if (bytes >= offset) return i;
      var cp = text.codePointAt(i);
      bytes += enc.encode(String.fromCodePoint(cp)).length;
      if (cp > 0xffff) i++;
    }
    return text.length;
  }
  function paintEditor() {
    var text = contract.value;
    var starts = lineStarts(text);
    var marks = [];
    lastDiags.forEach(function (d) {
      if (!d.span) return;
      var a = byteToChar(text, d.span.offset), b = byteToChar(text, d.span.offset + Math.max(1, d.span.length));
      marks.push({ a: a, b: Math.max(b, a + 1), sev: d.severity });
    });
    marks.sort(function (x, y) { return x.a - y.a; });
    var html = '', pos = 0;
    marks.forEach(function (m) {
      if (m.a < pos) return;
      html += esc(text.slice(pos, m.a)) + '<mark class="' + esc(m.sev) + '">' + esc(text.slice(m.a, m.b) || ' ') + '</mark>';
      pos = m.b;
    });
    html += esc(text.slice(pos)) + '\n';
    backdrop.innerHTML = html;
    var sev = {};
    lastDiags.forEach(function (d) {
      if (d.line && (d.severity === 'error' || !sev[d.line])) sev[d.line] = d.severity;
    });
    var g = '';
    for (var i = 1; i <= starts.length; i++) {
      var s = sev[i];
      g += '<div data-line="' + i + '"' + (s ? ' class="has-' + esc(s) + '"' : '') + '>' + i + '</div>';
    }
    gutter.innerHTML = g;
    syncScroll();
  }
  function syncScroll() {
    backdrop.scrollTop = contract.scrollTop;
    backdrop.scrollLeft = contract.scrollLeft;
    gutter.scrollTop = contract.scrollTop;
  }
  contract.addEventListener('scroll', syncScroll);

  function showDiagnostics(list) {
    lastDiags = list || [];
    var ul = $('diagnostics');
    ul.innerHTML = '';
    var errors = lastDiags.filter(function (d) { return d.severity === 'error'; }).length;
    var warnings = lastDiags.length - errors;
    $('diag-count').textContent = errors || warnings ? errors + ' error' + (errors === 1 ? '' : 's') + ', ' + warnings + ' warning' + (warnings === 1 ? '' : 's') : 'none';
    if (!lastDiags.length) {
      ul.innerHTML = '<li class="ok">The contract checks clean.</li>';
    }
    lastDiags.forEach(function (d) {
      var li = document.createElement('li');
      li.className = d.severity;
      if (d.line) li.dataset.line = d.line;
      if (d.code) li.dataset.code = d.code;
      var where = d.line ? 'line ' + d.line + (d.column ? ', column ' + d.column : '') : '';
      li.innerHTML = (where ? '<button type="button">' + esc(where) + '</button> ' : '') +
        '<code>' + esc(d.code || '') + '</code> ' + esc(d.message) +
        (d.labels && d.labels[0] && d.labels[0].label ? ' — ' + esc(d.labels[0].label) : '') +
        (d.help ? '<span class="help">' + esc(d.help) + '</span>' : '');
      var b = li.querySelector('button');
      if (b && d.span) b.addEventListener('click', function () {
        var at = byteToChar(contract.value, d.span.offset);
        contract.focus();
        contract.setSelectionRange(at, at + Math.max(1, d.span.length));
        var line = d.line - 1;
        contract.scrollTop = Math.max(0, line * 20 - 100);
      });
      ul.appendChild(li);
    });
    paintEditor();
  }

  /* ---- what-ifs and the event form, from the contract's declarations ---- */
  var sets = {};
  function showTerms(terms) {
    var box = $('terms');
    box.innerHTML = '';
    if (!terms.length) { box.innerHTML = '<p class="quiet">This contract has no terms.</p>'; return; }
    terms.forEach(function (t) {
      var id = 'term-' + t.name;
      var label = document.createElement('label');
      label.htmlFor = id;
      label.innerHTML = '<code>' + esc(t.name) + '</code>' + (t.open ? ' <span class="open">open</span>' : '');
      var input = document.createElement('input');
      input.id = id;
      input.placeholder = t.value == null ? t.type + ', not fixed' : t.value;
      input.value = sets[t.name] || '';
      input.dataset.term = t.name;
      input.addEventListener('input', function () { sets[t.name] = input.value; scheduleRun(); });
      box.appendChild(label);
      box.appendChild(input);
    });
  }
  function fieldInput(f) {
    var el;
    if (f.type === 'party') {
      el = document.createElement('select');
      (f.optional ? [''] : []).concat(decl.parties).forEach(function (p) {
        var o = document.createElement('option'); o.value = p; o.textContent = p || '—'; el.appendChild(o);
      });
    } else if (f.type === 'bool') {
      el = document.createElement('select');
      (f.optional ? ['', 'true', 'false'] : ['true', 'false']).forEach(function (v) {
        var o = document.createElement('option'); o.value = v; o.textContent = v || '—'; el.appendChild(o);
      });
    } else {
      el = document.createElement('input');
      el.type = f.type === 'date' ? 'date' : 'text';
      el.placeholder = { money: '100.00 USD', percent: '12.5%', decimal: '42', duration: '30 days', entity: 'a name', text: 'text' }[f.type] || f.type;
      if (!f.optional) el.required = true;
    }
    el.dataset.field = f.name;
    el.dataset.type = f.type;
    return el;
  }
  function showForm() {
    var kind = $('ev-kind'), current = kind.value;
    kind.innerHTML = '';
    decl.events.forEach(function (e) {
      var o = document.createElement('option'); o.value = e.name; o.textContent = e.name; kind.appendChild(o);
    });
    if (decl.events.some(function (e) { return e.name === current; })) kind.value = current;
    showFields();
  }
  function showFields() {
    var box = $('ev-fields');
    box.innerHTML = '';
    var e = decl.events.find(function (x) { return x.name === $('ev-kind').value; });
    if (!e) return;
    e.fields.forEach(function (f) {
      var label = document.createElement('label');
      label.textContent = f.name + ' (' + f.type + (f.optional ? ', optional' : '') + ')';
      label.appendChild(fieldInput(f));
      box.appendChild(label);
    });
  }
  $('ev-kind').addEventListener('change', showFields);
  $('add-event').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var obj = { at: $('ev-at').value, event: $('ev-kind').value };
    $('ev-fields').querySelectorAll('[data-field]').forEach(function (el) {
      var v = el.value;
      if (v === '') return;
      if (el.dataset.type === 'bool') obj[el.dataset.field] = v === 'true';
      else obj[el.dataset.field] = v;
    });
    var text = events.value;
    events.value = text + (text && !text.endsWith('\n') ? '\n' : '') + JSON.stringify(obj) + '\n';
    scheduleRun(0);
  });

  /* ---- the as-of slider ---- */
  function dayNumber(iso) { return Math.round(Date.parse(iso + 'T00:00:00Z') / 86400000); }
  function isoOf(n) { return new Date(n * 86400000).toISOString().slice(0, 10); }
  function fmt(iso) {
    var d = new Date(iso + 'T00:00:00Z');
    return d.getUTCDate() + ' ' + ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()] + ' ' + d.getUTCFullYear();
  }
  function showRange(r) {
    if (!r) return;
    range = r;
    slider.min = dayNumber(r.start);
    slider.max = dayNumber(r.end);
    if (!atDate) slider.value = r.last_event ? dayNumber(r.last_event) : slider.max;
    asofText.textContent = atDate ? fmt(atDate) : (r.last_event ? 'the last event, ' + fmt(r.last_event) : 'the start');
    slider.setAttribute('aria-valuetext', asofText.textContent);
  }
  slider.addEventListener('input', function () {
    atDate = isoOf(+slider.value);
    asofText.textContent = fmt(atDate);
    slider.setAttribute('aria-valuetext', asofText.textContent);
    scheduleRun(150);
  });
  $('asof-latest').addEventListener('click', function () { atDate = ''; scheduleRun(0); });

  /* ---- requests ---- */
  async function runCheck() {
    var seq = ++checkSeq;
    var out = await post('/api/check', { contract: contract.value });
    if (seq !== checkSeq) return;
    if (out.error && !out.diagnostics) { setStatus(out.error, true); return; }
    showDiagnostics(out.diagnostics);
    if (out.ok) {
      decl = { events: out.events, parties: out.parties, terms: out.terms };
      showTerms(out.terms);
      showForm();
    }
  }
  function showRejected(list, count) {
    var ul = $('rejected');
    ul.innerHTML = '';
    (list || []).forEach(function (d) {
      var li = document.createElement('li');
      li.className = d.severity || 'error';
      if (d.code) li.dataset.code = d.code;
      li.innerHTML = '<code>' + esc(d.code || '') + '</code> ' + esc(d.message) + (d.help ? '<span class="help">' + esc(d.help) + '</span>' : '');
      ul.appendChild(li);
    });
    if (count > (list || []).length) {
      var li = document.createElement('li');
      li.textContent = (count - list.length) + ' more lines were rejected.';
      ul.appendChild(li);
    }
  }
  async function runRun() {
    var seq = ++runSeq;
    setStatus('Evaluating…');
    var body = { contract: contract.value, events: events.value, at: atDate || null, sets: {} };
    Object.keys(sets).forEach(function (k) { if (sets[k]) body.sets[k] = sets[k]; });
    var out;
    try { out = await post('/api/run', body); } catch (e) { out = { error: 'the playground server cannot be reached' }; }
    if (seq !== runSeq) return;
    showRejected(out.rejected, out.rejected_count || 0);
    if (out.html) {
      if (window.dealTimeline) window.dealTimeline.hide();
      report.innerHTML = out.html;
      if (window.dealTimeline) window.dealTimeline.setup(report);
      showRange(out.range);
      setStatus((out.breaches ? out.breaches + ' breach' + (out.breaches === 1 ? '' : 'es') : 'No breach') + ' · as of ' + (out.as_of || 'the start'), !!out.breaches);
    } else {
      report.innerHTML = '<div class="report-error"><strong>No report.</strong> ' + esc(out.error || 'nothing to show') + '</div>';
      setStatus(out.error || 'No report', true);
    }
  }
  function scheduleCheck() { clearTimeout(checkTimer); checkTimer = setTimeout(runCheck, 200); }
  function scheduleRun(delay) { clearTimeout(runTimer); runTimer = setTimeout(runRun, delay == null ? 400 : delay); }

  contract.addEventListener('input', function () { paintEditor(); scheduleCheck(); scheduleRun(); });
  events.addEventListener('input', function () { scheduleRun(); });
  $('clear-events').addEventListener('click', function () { events.value = ''; scheduleRun(0); });
  $('upload').addEventListener('change', function () {
    var f = this.files && this.files[0];
    if (!f) return;
    if (f.size > 8 * 1024 * 1024) { setStatus('That file is larger than the playground takes (8 MiB)', true); return; }
    f.text().then(function (t) { events.value = t; scheduleRun(0); });
  });
  $('load-example').addEventListener('click', function () {
    contract.value = initial.example.contract;
    events.value = initial.example.events;
    $('contract-name').textContent = 'microsoft_openai.deal';
    atDate = ''; sets = {};
    paintEditor(); runCheck(); scheduleRun(0);
  });

  contract.value = initial.contract;
  events.value = initial.events;
  $('contract-name').textContent = initial.name;
  $('ev-at').value = new Date().toISOString().slice(0, 10);
  paintEditor();
  runCheck();
  scheduleRun(0);
  window.dealPlayground = { run: runRun, check: runCheck };
})();
