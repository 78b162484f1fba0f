// Makes the badge form nicer with JavaScript: each condition shows only the fields its kind needs,
// the picture is previewed, and the plain-language summary follows every change. Without
// JavaScript every field stays visible and the summary updates on save.
(function () {
  'use strict';
  var form = document.querySelector('form.badge-form');
  if (!form) return;
  var NEEDS = {
    'activity-grade': ['for-activity', 'for-threshold'],
    'activity-completed': ['for-activity'],
    'course-grade': ['for-threshold'],
    'course-completed': [],
    badge: ['for-badge'],
    'activity-grade-below': ['for-activity', 'for-threshold'],
    'course-grade-below': ['for-threshold'],
    unenrolled: [],
    '': [],
  };
  function showFields(row) {
    var select = row.querySelector('select.kind');
    if (!select) return;
    var needed = NEEDS[select.value] || [];
    ['for-activity', 'for-threshold', 'for-badge'].forEach(function (cls) {
      var el = row.querySelector('.' + cls);
      if (el) el.hidden = needed.indexOf(cls) === -1;
    });
  }
  var rows = form.querySelectorAll('.condition');
  Array.prototype.forEach.call(rows, function (row) {
    showFields(row);
    var select = row.querySelector('select.kind');
    if (select) select.addEventListener('change', function () { showFields(row); });
  });

  var image = form.querySelector('#image');
  var preview = document.getElementById('image-preview');
  if (image && preview) {
    image.addEventListener('change', function () {
      var file = image.files && image.files[0];
      if (!file) return;
      preview.src = URL.createObjectURL(file);
      preview.alt = 'Preview of the new picture';
      preview.hidden = false;
    });
  }

  var summary = document.getElementById('rule-summary');
  var action = form.getAttribute('data-summary-action');
  var timer = null;
  function refresh() {
    if (!summary || !action) return;
    var data = new FormData(form);
    data.delete('image');
    // The token in a header lets Laurel check it before reading the body.
    var headers = form.elements.csrf ? { 'X-CSRF-Token': form.elements.csrf.value } : {};
    fetch(action, { method: 'POST', headers: headers, body: new URLSearchParams(data) })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (answer && answer.summary) summary.textContent = answer.summary;
      })
      .catch(function () { /* the summary is a convenience; saving still works */ });
  }
  form.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  form.addEventListener('change', function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 100);
  });
})();
