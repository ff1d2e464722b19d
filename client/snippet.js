/**
 * Vouchsafe loader snippet. Paste it (dist/public/sdk/snippet.min.js) inline before the SDK's
 * script tag: the page can then call Vouchsafe.* before the SDK has loaded. Each early call
 * returns a Promise and is queued as [method, args, resolve, reject] in Vouchsafe._q; on load the
 * SDK replays the queue in order and replaces the global, after which these stubs forward to it.
 * getTrackingId() is synchronous in the SDK, but returns a Promise through a stub.
 *
 * Example:
 *   <script>(contents of snippet.min.js)</script>
 *   <script async src="https://vouchsafe.shop.example/sdk/v1.js"
 *     data-client-application-id="CLIENT_APP_ID" data-client-token="CLIENT_TOKEN"
 *     data-require-consent></script>
 *   <script>
 *     Vouchsafe.setIdentity('alice@example.com');
 *     Vouchsafe.validate('SUMMER-10').then(function (r) { if (r.valid) showDiscount(r); });
 *     consentBanner.onAccept(function () { Vouchsafe.consent(true); });
 *   </script>
 */
(function (w) {
  // Loaded already, or a snippet ran before: replacing it would lose the SDK's state or the queue.
  if (w.Vouchsafe) return;
  var vs = (w.Vouchsafe = { _q: [] });
  'init getTrackingId setIdentity validate qualifications track consent reset'.split(' ').forEach(function (m) {
    vs[m] = function () {
      var args = [].slice.call(arguments);
      var v = w.Vouchsafe;
      return v._q
        ? new Promise(function (resolve, reject) {
            v._q.push([m, args, resolve, reject]);
          })
        : Promise.resolve(v[m].apply(v, args));
    };
  });
})(window);
