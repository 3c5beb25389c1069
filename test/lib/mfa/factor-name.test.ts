import t from 'tap'
import { factorName, MAX_FACTOR_NAME } from '../../../lib/mfa/factor-name.js'

t.test('a factor\'s name: one space per run of white space, no control or format characters, trimmed, cut; the fallback when empty', async (t) => {
  t.equal(factorName('  My \t  phone\n', 'App'), 'My phone')
  t.equal(factorName('Ph\u202eone\u200b\u0007', 'App'), 'Phone')
  t.equal(factorName('x'.repeat(100), 'App').length, MAX_FACTOR_NAME)
  t.equal(factorName('   ', 'App'), 'App')
  t.equal(factorName('\u202e', 'App'), 'App')
  t.equal(factorName(42, 'App'), 'App')
})
