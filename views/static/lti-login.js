/*
 * The login page Laurel answers when its cookies do not reach it inside the LMS's page.
 * - platform-storage: store the state in the LMS's storage (lti.capabilities, then lti.put_data),
 *   then send the authentication request to the LMS; if the LMS does not answer, fall back as below.
 * - blocked (or the fallback): ask for storage access where the browser can grant it (and continue
 *   here if it does), else continue the same login in a new top-level window and say so here.
 */
(function () {
  'use strict';
  var root = document.getElementById('laurel-login');
  if (!root) return;
  var pm = window.LaurelPostMessage;
  var windowForm = document.getElementById('laurel-window-form');
  var sections = ['laurel-working', 'laurel-offer', 'laurel-opened', 'laurel-blocked'];

  function show(id, focus) {
    for (var i = 0; i < sections.length; i++) {
      var section = document.getElementById(sections[i]);
      if (section) section.hidden = sections[i] !== id;
    }
    var heading = document.getElementById(id + '-title');
    if (focus && heading) heading.focus();
  }

  function problem(text) {
    var box = document.getElementById('laurel-problem');
    box.textContent = text;
    box.hidden = !text;
  }

  function loginParams() {
    var params = {};
    var inputs = windowForm.querySelectorAll('input[type=hidden]');
    for (var i = 0; i < inputs.length; i++) params[inputs[i].name] = inputs[i].value;
    delete params.laurel_path;
    return params;
  }

  function postForm(action, fields) {
    var form = document.createElement('form');
    form.method = 'post';
    form.action = action;
    form.hidden = true;
    for (var i = 0; i < fields.length; i++) {
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = fields[i].name;
      input.value = fields[i].value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  }

  /** The windows this page opened: only they may hand back a deep-linking answer. */
  var openedWindows = [];

  /**
   * A deep-linking answer made in the new window comes back here, to be posted from the LMS's own
   * frame (its dialog expects the answer there, not in another window).
   */
  window.addEventListener('message', function (event) {
    if (event.origin !== window.location.origin || openedWindows.indexOf(event.source) < 0) return;
    var data = event.data;
    if (!data || data.type !== 'laurel-deep-link-return') return;
    if (typeof data.jwt !== 'string' || typeof data.returnUrl !== 'string' || !/^https?:\/\//.test(data.returnUrl))
      return;
    event.source.postMessage({ type: 'laurel-deep-link-posted' }, window.location.origin);
    postForm(data.returnUrl, [{ name: 'JWT', value: data.jwt }]);
  });

  /** Opens the login in a new window (named, so a blocked pop-up shows as null) and says so here. */
  function openWindow(fromClick) {
    var name = 'laurel-' + String(Math.random()).slice(2);
    var opened = null;
    try {
      opened = window.open('', name);
    } catch {
      opened = null;
    }
    if (!opened) {
      show('laurel-blocked', fromClick);
      if (fromClick) problem('Your browser blocked the new window. Allow pop-ups for this site, then try again.');
      return;
    }
    openedWindows.push(opened);
    windowForm.target = name;
    windowForm.submit();
    problem('');
    show('laurel-opened', true);
  }

  function json(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    }).then(function (res) {
      return res.json().then(function (data) {
        if (!res.ok) throw new Error(data && data.error ? data.error : 'HTTP ' + res.status);
        return data;
      });
    });
  }

  /** Storage access was granted: the state gets a cookie of Laurel's, checked before going on. */
  function continueHere() {
    show('laurel-working', true);
    return json('/lti/login/storage-access', { step: 'bind', params: loginParams() }).then(function (bound) {
      return json('/lti/login/storage-access', { step: 'confirm', state: bound.state }).then(function () {
        postForm(bound.action, bound.fields);
      });
    });
  }

  function permissionState() {
    if (!navigator.permissions || !navigator.permissions.query) return Promise.resolve('unknown');
    return navigator.permissions.query({ name: 'storage-access' }).then(
      function (status) {
        return status.state;
      },
      function () {
        return 'unknown';
      },
    );
  }

  function withoutCookies() {
    var canAsk =
      typeof document.requestStorageAccess === 'function' && typeof document.hasStorageAccess === 'function';
    if (!canAsk) return openWindow(false);
    permissionState().then(function (state) {
      if (state === 'denied') return openWindow(false);
      // Granted before (this browser remembers): no click needed.
      if (state === 'granted')
        return document.requestStorageAccess().then(
          function () {
            return continueHere().catch(function () {
              openWindow(false);
            });
          },
          function () {
            show('laurel-offer', true);
          },
        );
      show('laurel-offer', true);
    });
  }

  document.getElementById('laurel-allow').addEventListener('click', function () {
    problem('');
    var refused = function () {
      problem('Your browser did not let Laurel use its cookies here, so Laurel opens in a new window instead.');
      openWindow(true);
    };
    document.requestStorageAccess().then(function () {
      return continueHere().catch(refused);
    }, refused);
  });
  document.getElementById('laurel-window-instead').addEventListener('click', function () {
    openWindow(true);
  });
  document.getElementById('laurel-open-again').addEventListener('click', function () {
    openWindow(true);
  });
  windowForm.addEventListener('submit', function (event) {
    event.preventDefault();
    openWindow(true);
  });

  if (root.getAttribute('data-mode') !== 'platform-storage') {
    withoutCookies();
    return;
  }
  var state = root.getAttribute('data-state');
  var key = root.getAttribute('data-state-key');
  var origin = root.getAttribute('data-platform-origin');
  var target = root.getAttribute('data-storage-target');
  pm.putData(key, state, origin, target).then(
    function (stored) {
      // Platforms echo what they stored; one that answers another value did not keep the state.
      if (stored.value !== undefined && stored.value !== state) throw new Error('stored another value');
      document.getElementById('laurel-auth-request').submit();
    },
    function () {
      // The LMS offered its storage but did not keep the state: continue as without it.
      withoutCookies();
    },
  );
})();
