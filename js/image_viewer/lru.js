/**
 * A bounded least-recently-used map with an eviction callback (thumbnail object URLs
 * are revoked when they fall out; decoded full images are released). Pure.
 * @module image_viewer/lru
 */

/**
 * @template K, V
 */
export class LruCache {
  /**
   * @param {number} limit most entries kept
   * @param {(key: K, value: V) => void} [onEvict]
   */
  constructor(limit, onEvict) {
    this.limit = Math.max(1, limit | 0);
    this.onEvict = onEvict;
    /** @type {Map<K, V>} */
    this._map = new Map();
  }

  get size() {
    return this._map.size;
  }

  /** @param {K} key */
  has(key) {
    return this._map.has(key);
  }

  /**
   * Returns the value and marks it recently used.
   * @param {K} key
   * @returns {V | undefined}
   */
  get(key) {
    if (!this._map.has(key)) return undefined;
    const value = /** @type {V} */ (this._map.get(key));
    this._map.delete(key);
    this._map.set(key, value);
    return value;
  }

  /** @param {K} key @param {V} value */
  set(key, value) {
    if (this._map.has(key)) {
      const old = this._map.get(key);
      this._map.delete(key);
      if (old !== value) this.onEvict?.(key, /** @type {V} */ (old));
    }
    this._map.set(key, value);
    while (this._map.size > this.limit) {
      const [oldestKey, oldestValue] = /** @type {[K, V]} */ (this._map.entries().next().value);
      this._map.delete(oldestKey);
      this.onEvict?.(oldestKey, oldestValue);
    }
  }

  /** @param {K} key */
  delete(key) {
    if (!this._map.has(key)) return false;
    const value = /** @type {V} */ (this._map.get(key));
    this._map.delete(key);
    this.onEvict?.(key, value);
    return true;
  }

  clear() {
    for (const [key, value] of [...this._map]) {
      this._map.delete(key);
      this.onEvict?.(key, value);
    }
  }
}
