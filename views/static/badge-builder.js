// Makes the badge form nicer with JavaScript: each condition shows only the fields its kind needs;
// conditions and groups are added and removed in the page (the same buttons go through the server
// without JavaScript); the chosen activity is named beside its field, with a warning when Laurel has
// never heard of it; the picture is previewed; the plain-language summary follows every change.
(function () {
  'use strict';
  var form = document.querySelector('form.badge-form');
  if (!form) return;
  var NEEDS = {
    'activity-grade': ['for-activity', 'for-threshold', 'for-time'],
    'activity-completed': ['for-activity', 'for-time'],
    'course-grade': ['for-threshold', 'for-time'],
    'course-completed': ['for-time'],
    badge: ['for-badge'],
    'activities-grade': ['for-pattern', 'for-threshold', 'for-time'],
    'activities-completed': ['for-pattern', 'for-time'],
    'activity-grade-below': ['for-activity', 'for-threshold'],
    'course-grade-below': ['for-threshold'],
    unenrolled: [],
    '': [],
  };
  function showFields(row) {
    var select = row.querySelector('select.kind');
    if (!select) return;
    var needed = NEEDS[select.value] || [];
    ['for-activity', 'for-threshold', 'for-badge', 'for-pattern', 'for-time'].forEach(function (cls) {
      var el = row.querySelector('.' + cls);
      if (el) el.hidden = needed.indexOf(cls) === -1;
    });
  }

  // Activities by name: what the list knows of the typed id.
  var known = {};
  Array.prototype.forEach.call(document.querySelectorAll('#known-activities option'), function (o) {
    known[o.value] = { name: o.getAttribute('data-name'), kind: o.getAttribute('data-kind') };
  });
  function showActivity(input) {
    var hint = document.getElementById(input.id + '-hint');
    if (!hint) return;
    var id = input.value.trim();
    var a = Object.prototype.hasOwnProperty.call(known, id) ? known[id] : null;
    hint.classList.toggle('unknown', Boolean(id) && !a);
    if (!id) hint.textContent = 'Type a name, a kind or an id, and pick from the list.';
    else if (a) hint.textContent = (a.name || 'Unnamed activity') + (a.kind ? ' (' + a.kind + ')' : '') + ', id ' + id;
    else hint.textContent = 'Laurel has never heard of this activity in this course: you will be asked to confirm it.';
  }
  function enhance(root) {
    Array.prototype.forEach.call(root.querySelectorAll('.condition'), showFields);
    Array.prototype.forEach.call(root.querySelectorAll('input.activity'), showActivity);
  }
  form.addEventListener('change', function (e) {
    var row = e.target.closest && e.target.closest('.condition');
    if (row && e.target.matches('select.kind')) showFields(row);
  });
  form.addEventListener('input', function (e) {
    if (e.target.matches && e.target.matches('input.activity')) showActivity(e.target);
  });
  enhance(form);

  // Adding and removing conditions and groups, in the page.
  var groupsBox = form.querySelector('.groups');
  var announce = document.getElementById('builder-announce');
  function say(text) { if (announce) announce.textContent = text; }
  function nextIndex(nodes, attr) {
    var max = -1;
    Array.prototype.forEach.call(nodes, function (n) { max = Math.max(max, Number(n.getAttribute(attr)) || 0); });
    return max + 1;
  }
  function fromTemplate(id, g, r) {
    var html = document.getElementById(id).innerHTML.replace(/__G__/g, String(g)).replace(/__R__/g, String(r));
    var box = document.createElement('div');
    box.innerHTML = html.trim();
    return box.firstElementChild;
  }
  function renumber() {
    Array.prototype.forEach.call(groupsBox.querySelectorAll('fieldset.group'), function (group, gi) {
      Array.prototype.forEach.call(group.querySelectorAll('.group-number'), function (s) { s.textContent = String(gi + 1); });
      Array.prototype.forEach.call(group.querySelectorAll('.condition'), function (row, ri) {
        Array.prototype.forEach.call(row.querySelectorAll('.row-number'), function (s) { s.textContent = String(ri + 1); });
      });
    });
    refreshSoon(50);
  }
  function focusFirst(el) {
    var field = el && el.querySelector('select, input:not([type=hidden]), button');
    if (field) field.focus();
  }
  form.addEventListener('click', function (e) {
    var button = e.target.closest && e.target.closest('button[name="builder"]');
    if (!button || !groupsBox) return;
    var value = button.value;
    var group = button.closest('fieldset.group');
    e.preventDefault();
    if (value === 'add-group') {
      var g = nextIndex(groupsBox.querySelectorAll('fieldset.group'), 'data-group');
      var newGroup = fromTemplate('builder-group-template', g, 0);
      groupsBox.appendChild(newGroup);
      enhance(newGroup);
      renumber();
      focusFirst(newGroup);
      say('Group added.');
    } else if (/^add-row:/.test(value) && group) {
      var r = nextIndex(group.querySelectorAll('.condition'), 'data-row');
      var row = fromTemplate('builder-row-template', group.getAttribute('data-group'), r);
      group.insertBefore(row, group.querySelector('.group-actions'));
      enhance(row);
      renumber();
      focusFirst(row);
      say('Condition added.');
    } else if (/^remove-row:/.test(value) && group) {
      button.closest('.condition').remove();
      if (!group.querySelector('.condition')) group.remove();
      renumber();
      focusFirst(group.isConnected ? group.querySelector('.group-actions') : form.querySelector('.add-group').parentNode);
      say('Condition removed.');
    } else if (/^remove-group:/.test(value) && group) {
      group.remove();
      renumber();
      form.querySelector('button.add-group').focus();
      say('Group removed.');
    }
  });

  // The picture, previewed as a data: URL (the pages' Content-Security-Policy allows no blob: images).
  var image = form.querySelector('#image');
  var preview = document.getElementById('image-preview');
  if (image && preview && window.FileReader) {
    image.addEventListener('change', function () {
      var file = image.files && image.files[0];
      if (!file) return;
      var reader = new FileReader();
      reader.onload = function () {
        preview.src = String(reader.result);
        preview.alt = 'Preview of the new picture';
        preview.hidden = false;
      };
      reader.readAsDataURL(file);
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
  function refreshSoon(ms) {
    clearTimeout(timer);
    timer = setTimeout(refresh, ms);
  }
  form.addEventListener('input', function () { refreshSoon(300); });
  form.addEventListener('change', function () { refreshSoon(100); });
})();
