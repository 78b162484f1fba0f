/*
 * Laurel's side of the 1EdTech LTI Client Side postMessages (lti.capabilities, lti.put_data,
 * lti.get_data), shared by the login and launch pages. Requests go to the LMS window that embeds
 * Laurel (or opened it), or to the frame the LMS names for its storage; put_data and get_data are
 * sent only to the LMS's own origin, and their answers are accepted only from that exact origin and
 * that window.
 */
(function () {
  'use strict';

  function LtiMessageError(code, message) {
    this.name = 'LtiMessageError';
    this.code = code;
    this.message = message || code;
  }
  LtiMessageError.prototype = Object.create(Error.prototype);

  function newMessageId(subject) {
    var random =
      window.crypto && typeof window.crypto.randomUUID === 'function'
        ? window.crypto.randomUUID()
        : String(Math.random()).slice(2) + String(Date.now());
    return subject + '-' + random;
  }

  /** The LMS window around Laurel: the embedding page, or the window that opened this one. */
  function hostWindow() {
    if (window.parent && window.parent !== window) return window.parent;
    return window.opener || null;
  }

  /** The window to ask for storage: `_parent` (or nothing) is the LMS page itself, else its named frame. */
  function storageWindow(frameName) {
    var host = hostWindow();
    if (!host) return null;
    if (!frameName || frameName === '_parent') return host;
    try {
      return host.frames[frameName] || null;
    } catch {
      return null;
    }
  }

  /**
   * Sends one request and resolves with `{ data, origin }` of its answer (same subject + '.response'
   * and message_id, from `target`). `acceptOrigin` null accepts any origin (lti.capabilities only,
   * whose answer names frames and nothing secret); otherwise an answer from another origin rejects.
   */
  function request(target, message, targetOrigin, acceptOrigin, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var finished = false;
      var timer;
      function finish(fn, value) {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        window.removeEventListener('message', onMessage);
        fn(value);
      }
      function onMessage(event) {
        var data = event.data;
        if (!data || typeof data !== 'object') return;
        if (data.subject !== message.subject + '.response' || data.message_id !== message.message_id) return;
        if (event.source !== target) return;
        if (acceptOrigin !== null && event.origin !== acceptOrigin) {
          finish(reject, new LtiMessageError('wrong_origin', 'An answer came from ' + event.origin));
          return;
        }
        if (data.error) {
          var code = typeof data.error === 'object' && data.error.code ? String(data.error.code) : 'error';
          finish(reject, new LtiMessageError(code, data.error.message));
          return;
        }
        finish(resolve, { data: data, origin: event.origin });
      }
      window.addEventListener('message', onMessage);
      timer = setTimeout(function () {
        finish(reject, new LtiMessageError('timeout', message.subject + ' had no answer'));
      }, timeoutMs);
      try {
        target.postMessage(message, targetOrigin);
      } catch (e) {
        finish(reject, new LtiMessageError('post_failed', String(e && e.message)));
      }
    });
  }

  /** The LMS's supported messages, or null when it does not answer (then `lti_storage_target` alone counts). */
  function capabilities() {
    var host = hostWindow();
    if (!host) return Promise.resolve(null);
    var message = { subject: 'lti.capabilities', message_id: newMessageId('capabilities') };
    return request(host, message, '*', null, 1500).then(
      function (answer) {
        return Array.isArray(answer.data.supported_messages) ? answer.data.supported_messages : [];
      },
      function () {
        return null;
      },
    );
  }

  /** The frame to send `subject` to: the one the capabilities name, else the login's storage target. */
  function frameFor(supported, subject, fallback) {
    if (!supported) return fallback;
    for (var i = 0; i < supported.length; i++) {
      if (supported[i] && supported[i].subject === subject) return supported[i].frame || fallback;
    }
    return undefined;
  }

  /** Resolves with `{ value, origin }`; the storage is asked only at `platformOrigin`. */
  function storage(subject, key, value, platformOrigin, frameName) {
    return capabilities().then(function (supported) {
      var frame = frameFor(supported, subject, frameName);
      if (frame === undefined) throw new LtiMessageError('unsupported_subject', subject + ' is not offered');
      var target = storageWindow(frame);
      if (!target) throw new LtiMessageError('no_frame', 'No storage frame named ' + frame);
      var message = { subject: subject, message_id: newMessageId(subject), key: key };
      if (value !== undefined) message.value = value;
      return request(target, message, platformOrigin, platformOrigin, 4000).then(function (answer) {
        if (answer.data.key !== key) throw new LtiMessageError('bad_response', 'The answer is for another key');
        return { value: answer.data.value, origin: answer.origin };
      });
    });
  }

  window.LaurelPostMessage = {
    LtiMessageError: LtiMessageError,
    capabilities: capabilities,
    putData: function (key, value, platformOrigin, frameName) {
      return storage('lti.put_data', key, value, platformOrigin, frameName);
    },
    getData: function (key, platformOrigin, frameName) {
      return storage('lti.get_data', key, undefined, platformOrigin, frameName);
    },
    /** put_data without a value clears the key (best effort: the state is used up server-side anyway). */
    clearData: function (key, platformOrigin, frameName) {
      return storage('lti.put_data', key, undefined, platformOrigin, frameName).catch(function () {});
    },
  };
})();
