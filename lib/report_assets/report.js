// layerplan report: hovering (or tapping) a GPU shows its rank in every set and outlines the
// members of its group in every view. Runs on the page as written: it fetches nothing.
(function () {
  'use strict';
  var root = document.documentElement;
  var body = document.body;
  var tp = Number(body.getAttribute('data-tp'));
  var pcp = Number(body.getAttribute('data-pcp'));
  var pp = Number(body.getAttribute('data-pp'));
  var info = document.getElementById('info');
  var views = Array.prototype.slice.call(document.querySelectorAll('section.view'));

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  // vLLM's layout: rank = ((d*pp + p)*pcp + c)*tp + t.
  function coordinates(rank) {
    var t = rank % tp, rest = (rank - t) / tp;
    var c = rest % pcp; rest = (rest - c) / pcp;
    var p = rest % pp, d = (rest - p) / pp;
    return 'dp ' + d + ', pp ' + p + ', pcp ' + c + ', tp ' + t;
  }

  function clear() {
    each(document.querySelectorAll('rect.me, rect.hl'), function (r) {
      r.classList.remove('me');
      r.classList.remove('hl');
    });
  }

  function show(rank) {
    clear();
    var lines = ['rank ' + rank + ' (' + coordinates(rank) + ')'];
    views.forEach(function (view) {
      var name = view.getAttribute('data-view');
      if (view.hasAttribute('data-singleton')) {
        lines.push(name + ': alone in its group');
        return;
      }
      var cell = view.querySelector('rect[data-rank="' + rank + '"]');
      if (!cell) return;
      var group = cell.getAttribute('data-group');
      var members = view.querySelectorAll('rect[data-group="' + group + '"]');
      lines.push(name + ': group ' + group + ', position ' + cell.getAttribute('data-pos') +
                 (cell.classList.contains('x') ? ' (spans nodes)' : ''));
      each(members, function (r) { r.classList.add('hl'); });
      cell.classList.add('me');
    });
    info.textContent = lines.join('\n');
    info.hidden = false;
  }

  function onPointer(event) {
    var target = event.target;
    if (target && target.tagName === 'rect' && target.hasAttribute('data-rank')) {
      show(Number(target.getAttribute('data-rank')));
    }
  }
  document.addEventListener('mouseover', onPointer);
  document.addEventListener('click', onPointer);
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') { clear(); info.hidden = true; }
  });

  // For tests and for people: how many GPUs were laid out with a visible size.
  var drawn = 0;
  each(document.querySelectorAll('svg.grid rect[data-rank]'), function (r) {
    var box = r.getBoundingClientRect();
    if (box.width > 0 && box.height > 0) drawn += 1;
  });
  root.setAttribute('data-drawn-cells', String(drawn));
  root.setAttribute('data-ready', '1');
}());
