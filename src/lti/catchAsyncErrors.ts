/**
 * ltijs's app is express 4, which does not catch a rejected promise from a handler: an exception in
 * one of ltijs's async handlers (or ours mounted in it) became an unhandled rejection, and Node ends
 * the process on those. Wrapping every layer of the app's router hands such an error to `next`,
 * so it travels up to Laurel's error handler and ends in an answer, like in Laurel's express 5 app.
 */

type Next = (err?: unknown) => void;
// Parameters typed `never` so that any handler's signature fits; calls go through `invoke`.
type Handler = (this: unknown, ...args: never[]) => unknown;
const invoke = (fn: Handler, self: unknown, args: unknown[]) =>
  (fn as (...a: unknown[]) => unknown).apply(self, args);
type Layer = { handle: Handler; route?: { stack: Layer[] }; __laurelWrapped?: true };
type RouterLike = { stack: Layer[] };

function settle(result: unknown, next: Next): void {
  if (result && typeof (result as Promise<unknown>).then === 'function')
    (result as Promise<unknown>).then(undefined, (err: unknown) =>
      next(err ?? new Error('handler rejected')),
    );
}

function wrapLayer(layer: Layer): void {
  if (layer.route) layer.route.stack.forEach(wrapLayer);
  if (layer.__laurelWrapped) return;
  const original = layer.handle;
  // express tells error handlers from others by their arity, so each wrapper keeps it.
  layer.handle =
    original.length === 4
      ? function (this: unknown, err: unknown, req: unknown, res: unknown, next: Next) {
          try {
            settle(invoke(original, this, [err, req, res, next]), next);
          } catch (thrown) {
            next(thrown);
          }
        }
      : function (this: unknown, req: unknown, res: unknown, next: Next) {
          try {
            settle(invoke(original, this, [req, res, next]), next);
          } catch (thrown) {
            next(thrown);
          }
        };
  layer.__laurelWrapped = true;
}

/** Wraps every handler registered so far on an express 4 app (call once all routes are added). */
export function catchAsyncErrors(app: { _router?: RouterLike; router?: RouterLike }): number {
  const router = app._router ?? app.router;
  if (!router?.stack) throw new Error("catchAsyncErrors: the app has no router stack (is it express 4's?)");
  router.stack.forEach(wrapLayer);
  return router.stack.length;
}
