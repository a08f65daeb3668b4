'use strict'

/**
 * Every failure oatk reports: a stable machine-readable `code`
 * (`ERR_OATK_EXPIRED`, `ERR_OATK_SIGNATURE`, ...: one per core error kind, plus
 * `ERR_OATK_PANIC`) and the core's message, which names what failed.
 * Compare `err.code`, never the message text.
 */
class OatkError extends Error {
  /**
   * @param {string} message
   * @param {string} code
   */
  constructor(message, code) {
    super(message)
    this.code = code
  }

  get name() {
    return 'OatkError'
  }
}

module.exports = { OatkError }
