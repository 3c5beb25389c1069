import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CATALOGUES, chooseLocale, LOCALES, placeholders, translator, uiLocalesOf } from '../../../lib/i18n/index.js'
import { en } from '../../../lib/i18n/en.js'

// The pages' languages (lib/i18n/).

t.test('every language has every key of the English catalogue, with the same {values}, and no other key', async (t) => {
  t.ok(LOCALES.length >= 2, 'English and at least one more')
  for (const locale of LOCALES) {
    const catalogue = CATALOGUES[locale] as Record<string, string>
    t.same(Object.keys(catalogue).sort(), Object.keys(en).sort(), `${locale}: the same keys`)
    for (const [key, text] of Object.entries(en)) {
      t.type(catalogue[key], 'string', `${locale}: ${key}`)
      t.same(placeholders(catalogue[key] ?? ''), placeholders(text), `${locale}: ${key} fills in the same values`)
      t.notMatch(catalogue[key], /[<>]/, `${locale}: ${key} holds no HTML`)
    }
  }
})

t.test('every key a built-in template uses is in the catalogue', async (t) => {
  const views = fileURLToPath(new URL('../../../../views/', import.meta.url))
  const used = new Set<string>()
  for (const file of readdirSync(views).filter((f) => f.endsWith('.eta'))) {
    for (const m of readFileSync(views + file, 'utf8').matchAll(/it\.th?\('([a-z_.]+)'/g)) used.add(m[1] as string)
  }
  t.ok(used.size > 30, `${used.size} keys used`)
  for (const key of used) t.ok(key in en, key)
})

t.test('ui_locales first (in its order), then Accept-Language by weight, else English', async (t) => {
  t.equal(chooseLocale({}), 'en', 'nothing asked: English')
  t.equal(chooseLocale({ uiLocales: 'fr-CA en' }), 'fr', 'ui_locales: a region of a language we have')
  t.equal(chooseLocale({ uiLocales: 'de fr' }), 'fr', 'ui_locales: the first we have')
  t.equal(chooseLocale({ uiLocales: 'en', acceptLanguage: 'fr' }), 'en', 'ui_locales wins over Accept-Language')
  t.equal(chooseLocale({ uiLocales: 'de', acceptLanguage: 'fr' }), 'fr', 'none of ui_locales: Accept-Language')
  t.equal(chooseLocale({ acceptLanguage: 'de-DE, fr;q=0.8, en;q=0.5' }), 'fr', 'the best weight we have')
  t.equal(chooseLocale({ acceptLanguage: 'en;q=0.4, fr-BE;q=0.9' }), 'fr', 'by weight, not by order')
  t.equal(chooseLocale({ acceptLanguage: 'fr;q=0, en' }), 'en', 'q=0: not that one')
  t.equal(chooseLocale({ acceptLanguage: '*, fr;q=0.1' }), 'fr', '* names no language')
  t.equal(chooseLocale({ acceptLanguage: 'xx-<script>, ../fr' }), 'en', 'malformed tags are skipped')
  t.equal(chooseLocale({ acceptLanguage: `${'de,'.repeat(1000)}fr` }), 'en', 'only the first tags are read')
})

t.test('ui_locales from the request, else from the pending authorization request in return_to', async (t) => {
  t.equal(uiLocalesOf({ ui_locales: 'fr' }), 'fr')
  t.equal(uiLocalesOf({}, { return_to: '/authorize?client_id=web&ui_locales=fr%20en' }), 'fr en', 'through the sign-in')
  t.equal(uiLocalesOf({ return_to: 'https://evil.example/?ui_locales=fr' }), undefined, 'only a path of ours')
  t.equal(uiLocalesOf(undefined, undefined), undefined)
})

t.test('messages: values filled in; as HTML, every part escaped and each value in its element', async (t) => {
  const fr = translator('fr')
  t.equal(fr.t('login.continue_with', { provider: 'Corp SSO' }), 'Continuer avec Corp SSO')
  t.equal(translator('en').th('login.continue_to', { client: { text: '<b>Acme</b> & "co"', tag: 'span', class: 'client' } }),
    'to continue to <span class="client">&lt;b&gt;Acme&lt;/b&gt; &amp; &quot;co&quot;</span>')
  t.equal(fr.th('consent.signed_in_as', { user: { text: "o'neil", tag: 'strong' } }), 'Connecté en tant que <strong>o&#39;neil</strong>.')
})
