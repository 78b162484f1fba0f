// Keeps the learner page current without a reload: every few seconds it asks Laurel for the page's
// version (a small JSON answer, scoped to this launch); when it moved, it fetches the page again and
// swaps in the badge list, and says so to screen readers. Without JavaScript a reload shows the same.
(function () {
  'use strict';
  var region = document.getElementById('learner-badges');
  var status = document.getElementById('learner-updated');
  if (!region || !region.getAttribute('data-status') || !window.fetch) return;
  var INTERVAL_MS = 3000;
  var busy = false;
  function swapIn(html) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    var fresh = doc.getElementById('learner-badges');
    if (!fresh) return;
    region.innerHTML = fresh.innerHTML;
    region.setAttribute('data-version', fresh.getAttribute('data-version') || '');
    if (status) status.textContent = 'Your progress was updated.';
  }
  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(region.getAttribute('data-status'), { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (!answer || answer.version === region.getAttribute('data-version')) return null;
        return fetch(window.location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html) swapIn(html); });
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { busy = false; });
  }
  setInterval(poll, INTERVAL_MS);
  document.addEventListener('visibilitychange', poll);
})();
