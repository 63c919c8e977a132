/* deal — the timeline page's script: rich tooltips, bands that open on
   keyboard focus, zoom. The page reads without it. */
(function () {
  'use strict';
  var doc = document;
  doc.documentElement.classList.add('js');

  function markOf(node) {
    return node && node.closest ? node.closest('.mk, .tick, .sched') : null;
  }

  function fill(tip, mark) {
    while (tip.firstChild) tip.removeChild(tip.firstChild);
    var body = doc.createElement('div');
    body.className = 'tip-body';
    var own = mark.querySelector(':scope > .tip');
    var lines = [];
    if (own) {
      own.childNodes.forEach(function (n) { body.appendChild(n.cloneNode(true)); });
      body.querySelectorAll('.ev').forEach(function (e) { lines.push(e); e.remove(); });
    } else if (mark.dataset.tip) {
      body.textContent = mark.dataset.tip;
    }
    tip.appendChild(body);
    var n = mark.dataset.n, c = mark.dataset.c;
    var tpl = (n != null && doc.getElementById('nt-' + n)) || (c != null && doc.getElementById('ct-' + c));
    if (tpl && tpl.content) tip.appendChild(tpl.content.cloneNode(true));
    lines.forEach(function (e) { tip.appendChild(e); });
  }

  function place(tip, mark, x) {
    var r = mark.getBoundingClientRect();
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var cx = (typeof x === 'number') ? x : r.left + Math.min(r.width, 40) / 2;
    var left = Math.max(8, Math.min(cx - 24, window.innerWidth - w - 8));
    var top = r.bottom + 8;
    if (top + h > window.innerHeight - 8) top = Math.max(8, r.top - h - 8);
    tip.style.left = left + 'px';
    tip.style.top = top + 'px';
  }

  var current = null;
  function show(mark, x) {
    var tip = doc.getElementById('tip');
    if (!tip) return;
    if (current !== mark) fill(tip, mark);
    current = mark;
    place(tip, mark, x);
  }
  function hide() {
    var tip = doc.getElementById('tip');
    if (tip) tip.hidden = true;
    current = null;
  }

  doc.addEventListener('pointerover', function (e) {
    var m = markOf(e.target);
    if (m) show(m, e.clientX);
  });
  doc.addEventListener('pointermove', function (e) {
    var m = markOf(e.target);
    if (m && m === current) place(doc.getElementById('tip'), m, e.clientX);
  });
  doc.addEventListener('pointerout', function (e) {
    var m = markOf(e.target);
    if (m && !(e.relatedTarget && m.contains(e.relatedTarget))) hide();
  });
  doc.addEventListener('focusin', function (e) {
    // A band opens on keyboard focus; its list says what the tip would.
    var s = e.target.closest && e.target.closest('summary.mk');
    if (s && s.matches(':focus-visible') && s.parentElement) {
      s.parentElement.open = true;
      hide();
      return;
    }
    var m = markOf(e.target);
    if (m) show(m);
  });
  doc.addEventListener('focusout', function (e) {
    hide();
    var d = e.target.closest && e.target.closest('details.band');
    if (d && !(e.relatedTarget && d.contains(e.relatedTarget))) d.open = false;
  });
  doc.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      hide();
      doc.querySelectorAll('details.band[open]').forEach(function (d) { d.open = false; });
    }
  });
  // Scrolling (to a focused mark, or along the timeline) moves the tip with it.
  doc.addEventListener('scroll', function () {
    if (current) place(doc.getElementById('tip'), current);
  }, { passive: true, capture: true });

  /* Zoom: the track widens by --z and the view scrolls to keep a moment in sight. */
  function setup(root) {
    var tl = root.querySelector('#tl');
    if (!tl || tl.dataset.ready) return;
    tl.dataset.ready = '1';
    var tools = root.querySelector('.tl-tools');
    var t0 = +tl.dataset.t0, t1 = +tl.dataset.t1, a0 = +tl.dataset.a0, a1 = +tl.dataset.a1;
    var z = 1;
    function labelWidth() {
      var l = tl.querySelector('.lane-label');
      return l ? l.offsetWidth : 300;
    }
    function trackWidth() { return (tl.clientWidth - labelWidth()) * z; }
    function show_(t) {
      tl.style.scrollBehavior = 'auto';
      tl.scrollLeft = Math.max(0, (t - t0) / (t1 - t0) * trackWidth());
      tl.style.scrollBehavior = '';
    }
    function zoom(nz, at) {
      z = Math.max(1, Math.min(400, nz));
      tl.style.setProperty('--z', z);
      tl.classList.toggle('z-fine', z >= 2.5);
      show_(at);
      if (tools) tools.querySelectorAll('button').forEach(function (b) {
        var mode = b.dataset.zoom;
        b.setAttribute('aria-pressed', String((mode === 'term' && z === 1) || (mode === 'activity' && Math.abs(z - (t1 - t0) / (a1 - a0)) < 0.01)));
      });
    }
    function visibleStart() {
      return t0 + tl.scrollLeft / trackWidth() * (t1 - t0);
    }
    function visibleSpan() { return (t1 - t0) / z; }
    if (tools) {
      tools.hidden = false;
      tools.addEventListener('click', function (e) {
        var b = e.target.closest('button');
        if (!b) return;
        var mid = visibleStart() + visibleSpan() / 2;
        switch (b.dataset.zoom) {
          case 'term': zoom(1, t0); break;
          case 'activity': zoom((t1 - t0) / (a1 - a0), a0); break;
          case 'in': zoom(z * 2, mid - visibleSpan() / 4); break;
          case 'out': zoom(z / 2, mid - visibleSpan()); break;
        }
      });
    }
    // Open on what happened when it is a small part of the term.
    if (a1 > a0 && (a1 - a0) < (t1 - t0) * 0.6) zoom((t1 - t0) / (a1 - a0), a0);
    else zoom(1, t0);
  }
  window.dealTimeline = { setup: setup, hide: hide };
  if (doc.readyState !== 'loading') setup(doc);
  else doc.addEventListener('DOMContentLoaded', function () { setup(doc); });
})();
