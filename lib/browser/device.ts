/**
 * A session's device in a few words for the account page ("Firefox on Windows"), from the User-Agent kept at
 * sign-in. Only to help a person recognise their own sessions: a User-Agent is whatever the client sent, so this is
 * never used for a decision. The order of the checks matters: Edge and Opera say "Chrome" too, Chrome says "Safari",
 * Android says "Linux", an iPad may say "Macintosh".
 */

const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(Headless)?Chrom(e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bSafari\//, 'Safari'],
  [/^curl\//, 'curl']
]

const SYSTEMS: Array<[RegExp, string]> = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux']
]

const first = (table: Array<[RegExp, string]>, text: string): string | undefined => table.find(([pattern]) => pattern.test(text))?.[1]

export function describeDevice (userAgent: string | null | undefined): string {
  if (userAgent === null || userAgent === undefined || userAgent === '') return 'Unknown device'
  const browser = first(BROWSERS, userAgent)
  const system = first(SYSTEMS, userAgent)
  if (browser && system) return `${browser} on ${system}`
  return browser ?? system ?? 'Other browser'
}
