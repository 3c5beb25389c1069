import t from 'tap'
import { qrSvg } from '../../../lib/mfa/qr.js'

t.test('an inline SVG element: no script, no style attribute, labelled', async (t) => {
  const svg = await qrSvg('otpauth://totp/Gatehouse:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Gatehouse', 'Scan <me>')
  t.match(svg, /^<svg role="img" aria-label="Scan me" width="200" height="200" xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  t.match(svg, /<\/svg>$/)
  t.notMatch(svg, /<script|style=|<\?xml|href/)
  t.not(svg, await qrSvg('otpauth://totp/Gatehouse:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Gatehouse'), 'another text, another code')
})
