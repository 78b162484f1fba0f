/*
 * The launch page of a login whose state Laurel keeps without a cookie: proves the state to
 * /lti/launch/complete (read back from the LMS's storage, or with the cookie storage access let
 * Laurel keep), then continues to Laurel's page, or shows why the launch was refused.
 */
(function () {
  'use strict';
  var root = document.getElementById('laurel-launch');
  if (!root) return;
  var pm = window.LaurelPostMessage;
  var mode = root.getAttribute('data-mode');
  var completeUrl = root.getAttribute('data-complete-url');
  var completion = root.getAttribute('data-completion');

  function show(id) {
    var ids = ['laurel-working', 'laurel-continue', 'laurel-refused'];
    for (var i = 0; i < ids.length; i++) document.getElementById(ids[i]).hidden = ids[i] !== id;
    document.getElementById(id + '-title').focus();
  }

  function refused(answer) {
    document.getElementById('laurel-refused-title').textContent =
      (answer && answer.title) || 'The sign-in could not be completed';
    document.getElementById('laurel-refused-message').textContent =
      (answer && answer.message) || 'Laurel could not finish signing you in. Go back to your course and open Laurel again.';
    document.getElementById('laurel-refused-code').textContent =
      answer && answer.error ? 'Error ' + (answer.status ? answer.status + ' ' : '') + '(' + answer.error + ').' : '';
    show('laurel-refused');
  }

  function complete(proof) {
    proof.completion = completion;
    return fetch(completeUrl, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(proof),
    })
      .then(function (res) {
        return res.json().then(function (answer) {
          return { ok: res.ok, answer: answer };
        });
      })
      .then(function (result) {
        if (!result.ok || !result.answer.location) return refused(result.answer);
        window.location.replace(result.answer.location);
      })
      .catch(function () {
        refused(null);
      });
  }

  if (mode === 'platform-storage') {
    var key = root.getAttribute('data-state-key');
    var origin = root.getAttribute('data-platform-origin');
    var target = root.getAttribute('data-storage-target');
    pm.getData(key, origin, target).then(
      function (found) {
        var value = typeof found.value === 'string' ? found.value : null;
        // The state is used up server-side whatever happens; the LMS's copy is not needed any more.
        pm.clearData(key, origin, target);
        return complete({ state: value, origin: found.origin });
      },
      function () {
        // No answer from the LMS's own origin: the server refuses the unproven state.
        return complete({ state: null, origin: null });
      },
    );
    return;
  }

  // storage-access: the cookie is ours only once this page has storage access too.
  function withAccess() {
    return complete({});
  }
  function ask() {
    return document.requestStorageAccess().then(withAccess, function () {
      refused({
        title: 'Laurel could not use its cookies here',
        message: 'Your browser did not let Laurel use its cookies in this page. Go back to your course and open Laurel again.',
      });
    });
  }
  document.getElementById('laurel-continue-button').addEventListener('click', ask);
  if (typeof document.requestStorageAccess !== 'function') return void complete({});
  document.requestStorageAccess().then(withAccess, function () {
    // Some browsers want a click each time: ask for one.
    show('laurel-continue');
  });
})();
