import t from 'tap'
import { checkUserClaims } from '../../../lib/admin/user-claims.js'

// A user's standard claims as an administrator sets them (lib/admin/user-claims.ts): OIDC Core §5.1 types.

t.test('every standard claim, well-formed, comes back in a fixed order', async (t) => {
  const claims = {
    address: { country: 'GB', formatted: '1 High St\nOxford', locality: 'Oxford' },
    given_name: 'Alice',
    family_name: 'Liddell',
    middle_name: 'Pleasance',
    nickname: 'Al',
    profile: 'https://example.test/alice',
    picture: 'http://example.test/a.png',
    website: 'https://alice.example.test/',
    gender: 'female',
    birthdate: '1852-05-04',
    zoneinfo: 'Europe/London',
    locale: 'en-GB',
    phone_number: '+441865270000;ext=12',
    phone_number_verified: true,
    email_verified: false
  }
  const checked = checkUserClaims(claims)
  t.same(checked, claims)
  t.equal(JSON.stringify(checkUserClaims({ locale: 'fr', given_name: 'A' })), JSON.stringify(checkUserClaims({ given_name: 'A', locale: 'fr' })), 'equal claims are equal JSON')
  t.same(checkUserClaims({ birthdate: '1852' }), { birthdate: '1852' }, 'a year alone')
  t.same(checkUserClaims({ locale: 'en_US' }), { locale: 'en_US' })
  t.same(checkUserClaims({}), {})
})

t.test('bad values are refused, naming the claim', async (t) => {
  const refused: Array<[unknown, RegExp]> = [
    [[], /must be a JSON object/],
    [null, /must be a JSON object/],
    [{ nick_name: 'x' }, /unknown claim nick_name/],
    [{ name: 'Alice' }, /unknown claim name/],
    [{ picture: 'javascript:alert(1)' }, /claims.picture: must be an http or https URL/],
    [{ website: 'not a url' }, /claims.website: not a URL/],
    [{ locale: 'english please' }, /claims.locale/],
    [{ zoneinfo: 'Mars/Olympus_Mons' }, /claims.zoneinfo/],
    [{ zoneinfo: 'EST5EDT; DROP' }, /claims.zoneinfo/],
    [{ birthdate: '04/05/1852' }, /claims.birthdate/],
    [{ birthdate: '1852-13-01' }, /claims.birthdate/],
    [{ phone_number: '01865 270000' }, /claims.phone_number/],
    [{ phone_number_verified: 'yes' }, /phone_number_verified: must be true or false/],
    [{ email_verified: 1 }, /email_verified: must be true or false/],
    [{ given_name: '' }, /claims.given_name/],
    [{ given_name: 'x'.repeat(257) }, /claims.given_name/],
    [{ given_name: 'a\u0000b' }, /claims.given_name/],
    [{ given_name: 42 }, /claims.given_name/],
    [{ address: 'Oxford' }, /claims.address: must be an object/],
    [{ address: { city: 'Oxford' } }, /unknown field city/],
    [{ address: {} }, /an empty address/],
    [{ address: { locality: 'Ox\nford' } }, /address.locality/],
    [{ given_name: 'A', nickname: 'n'.repeat(200), gender: 'g'.repeat(200), picture: `https://x.test/${'p'.repeat(2000)}`, profile: `https://x.test/${'p'.repeat(2000)}`, website: `https://x.test/${'p'.repeat(2000)}`, address: { formatted: 'f'.repeat(500), street_address: 's'.repeat(250), locality: 'l'.repeat(250), region: 'r'.repeat(250), postal_code: 'p'.repeat(250), country: 'c'.repeat(250) }, family_name: 'f'.repeat(250), middle_name: 'm'.repeat(250) }, /larger than 8192 bytes/]
  ]
  for (const [input, message] of refused) {
    t.throws(() => checkUserClaims(input), { error: 'invalid_request', message }, JSON.stringify(input).slice(0, 60))
  }
})
