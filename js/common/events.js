/**
 * A tiny event dispatcher and a listener pool, so every module can offer `on/off` and
 * tear down everything it bound with one `destroy()` call.
 *
 * No side effects at import: ComfyUI imports every file under js/ as an entry module.
 * @module common/events
 */

/**
 * The event object passed to listeners. `preventDefault()` lets a listener veto the
 * default behaviour of the dispatcher (e.g. a panel's `close`).
 * @template [T=any]
 * @typedef {object} HolafEvent
 * @property {string} type
 * @property {T} detail
 * @property {boolean} defaultPrevented
 * @property {() => void} preventDefault
 */

/** Minimal on/off/dispatch. Listener errors are logged, never thrown into the dispatcher. */
export class Eventable {
  constructor() {
    /** @type {Map<string, Set<(event: HolafEvent) => void>>} */
    this._listeners = new Map();
  }

  /**
   * @param {string} type
   * @param {(event: HolafEvent) => void} callback
   * @returns {() => void} a function that removes this listener
   */
  on(type, callback) {
    let set = this._listeners.get(type);
    if (!set) {
      set = new Set();
      this._listeners.set(type, set);
    }
    set.add(callback);
    return () => this.off(type, callback);
  }

  /**
   * @param {string} type
   * @param {(event: HolafEvent) => void} callback
   */
  off(type, callback) {
    const set = this._listeners.get(type);
    if (set) {
      set.delete(callback);
      if (!set.size) this._listeners.delete(type);
    }
  }

  /**
   * Calls every listener of `type` in registration order.
   * @template T
   * @param {string} type
   * @param {T} [detail]
   * @returns {HolafEvent<T>} the event (check `defaultPrevented`)
   */
  dispatch(type, detail) {
    /** @type {HolafEvent<T>} */
    const event = {
      type,
      detail: /** @type {T} */ (detail),
      defaultPrevented: false,
      preventDefault() {
        event.defaultPrevented = true;
      },
    };
    const set = this._listeners.get(type);
    if (set) {
      for (const callback of [...set]) {
        try {
          callback(event);
        } catch (error) {
          console.error(`[Holaf] listener for "${type}" failed`, error);
        }
      }
    }
    return event;
  }

  /** Removes every listener (used by `destroy()`). */
  removeAllListeners() {
    this._listeners.clear();
  }
}

/**
 * Keeps every DOM listener and cleanup function a component registers, so that
 * `destroy()` is one `pool.removeAll()`.
 */
export class ListenerPool {
  constructor() {
    /** @type {Array<() => void>} */
    this._cleanups = [];
  }

  /**
   * `target.addEventListener(type, handler, options)`, remembered for `removeAll`.
   * @param {EventTarget} target
   * @param {string} type
   * @param {EventListenerOrEventListenerObject} handler
   * @param {boolean | AddEventListenerOptions} [options]
   * @returns {() => void} removes just this listener
   */
  add(target, type, handler, options) {
    target.addEventListener(type, handler, options);
    const remove = () => target.removeEventListener(type, handler, options);
    this._cleanups.push(remove);
    return remove;
  }

  /**
   * Remembers any cleanup function (an unsubscribe, a timer clear, an observer disconnect).
   * @param {() => void} cleanup
   */
  track(cleanup) {
    this._cleanups.push(cleanup);
    return cleanup;
  }

  /** Runs every cleanup once, newest first. */
  removeAll() {
    const cleanups = this._cleanups.splice(0).reverse();
    for (const cleanup of cleanups) {
      try {
        cleanup();
      } catch (error) {
        console.error("[Holaf] cleanup failed", error);
      }
    }
  }

  get size() {
    return this._cleanups.length;
  }
}
