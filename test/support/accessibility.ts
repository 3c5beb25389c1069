import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'

// The accessibility checks of the browser pages (docs/console.md, "Accessibility"): axe-core run inside the page, and
// the contrast of a keyboard focus ring, which axe does not measure.

/** axe-core's own build (a devDependency), read once. */
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** The rule sets run: WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices (landmarks, one h1…). */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] as const

/** One serious or critical finding, in words a failing test can print. */
export interface Finding { rule: string, impact: string, help: string, targets: string[] }

interface AxeNode { target: unknown[] }
interface AxeViolation { id: string, impact?: string | null, help: string, nodes: AxeNode[] }

/**
 * Runs axe-core on the page as it is drawn now (its colour scheme, its width) and returns the serious and critical
 * violations: rule id, impact, the CSS selectors of the elements at fault and axe's one-line help. Minor and moderate
 * findings are left out (the acceptance is "no serious or critical finding").
 *
 * axe's source goes in through Playwright's evaluate (the DevTools protocol), not a <script> element: the pages'
 * Content-Security-Policy (script-src with a nonce) stays as served, so the page is checked as a visitor gets it.
 */
export async function checkAccessibility (page: Page): Promise<Finding[]> {
  if (!await page.evaluate('typeof window.axe === "object"')) await page.evaluate(AXE_SOURCE)
  // A string, as the other in-page code of the tests (the project's TypeScript has no DOM types).
  const options = { runOnly: { type: 'tag', values: AXE_TAGS }, resultTypes: ['violations'] }
  const violations = await page.evaluate(`axe.run(document, ${JSON.stringify(options)}).then((result) => result.violations)`) as AxeViolation[]
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ rule: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }))
}

/** The findings one to a line ("color-contrast (serious): Elements must meet… at main > p"), for a test's message. */
export const describeFindings = (findings: Finding[]): string =>
  findings.map((f) => `${f.rule} (${f.impact}): ${f.help} at ${f.targets.join(', ')}`).join('\n')

/**
 * Presses Tab until the element matching `selector` has the focus (at most `maxTabs` presses, from where the focus
 * is now), then measures its focus ring: the computed outline colour against the colour drawn behind the ring (what
 * the page shows just outside the element on each of its four sides, the ring's middle; transparent backgrounds
 * are looked through to the first opaque one). Returns the lowest contrast ratio of the four sides (WCAG's
 * formula, 1 to 21), or 1 when the element shows no outline at all.
 */
export async function focusRingContrast (page: Page, selector: string, maxTabs = 40): Promise<number> {
  for (let presses = 0; ; presses++) {
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) === true`)) break
    if (presses === maxTabs) throw new Error(`${maxTabs} presses of Tab never reached ${selector}`)
    await page.keyboard.press('Tab')
  }
  return await page.evaluate<number>(RING_CONTRAST)
}

/**
 * Every focus stop of the page from the keyboard: from the top, presses Tab until the focus leaves the page or comes
 * back round (at most `maxTabs` presses), measuring each stop's focus ring as focusRingContrast does. Returns the
 * stops in order: a short description of the element (its tag, id or text) and the ring's lowest contrast.
 */
export async function focusRings (page: Page, maxTabs = 80): Promise<Array<{ element: string, ratio: number }>> {
  await page.evaluate('document.activeElement?.blur(); window.getSelection()?.removeAllRanges()')
  const stops: Array<{ element: string, ratio: number }> = []
  for (let presses = 0; presses < maxTabs; presses++) {
    await page.keyboard.press('Tab')
    const element = await page.evaluate<string | null>(`(() => {
      const e = document.activeElement
      if (e === null || e === document.body || e === document.documentElement) return null
      const text = (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 40)
      return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.getAttribute('name') ? '[name=' + e.getAttribute('name') + ']' : '') + (text ? ' "' + text + '"' : '')
    })()`)
    if (element === null || element === stops[0]?.element) break
    stops.push({ element, ratio: await page.evaluate<number>(RING_CONTRAST) })
  }
  return stops
}

/** The in-page half of focusRingContrast: the lowest contrast of the focused element's outline against what is behind it. */
const RING_CONTRAST = `(() => {
  const focused = document.activeElement
  const style = getComputedStyle(focused)
  const width = parseFloat(style.outlineWidth)
  if (style.outlineStyle === 'none' || !(width > 0)) return 1

  const parse = (colour) => {
    const parts = /^rgba?\\(([^)]+)\\)$/.exec(colour)?.[1]?.split(/[\\s,/]+/).filter(Boolean).map(Number)
    if (parts === undefined || parts.length < 3 || parts.some(Number.isNaN)) throw new Error('a colour this check cannot read: ' + colour)
    return [parts[0], parts[1], parts[2], parts[3] ?? 1]
  }
  /** top drawn over the opaque bottom. */
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1)
  /** The opaque colour an element's box shows: its background over its ancestors', white under all. */
  const backgroundOf = (element) => {
    const layers = []
    for (let e = element; e !== null; e = e.parentElement) {
      const layer = parse(getComputedStyle(e).backgroundColor)
      if (layer[3] > 0) layers.push(layer)
      if (layer[3] === 1) break
    }
    return layers.reduceRight((below, layer) => over(layer, below), [255, 255, 255, 1])
  }
  const luminance = ([r, g, b]) => {
    const channel = (c) => { const s = c / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4 }
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
  }
  const ratio = (a, b) => { const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x); return (hi + 0.05) / (lo + 0.05) }

  // In the middle of the window, so that every side of the ring is in it (elementsFromPoint sees only the window).
  focused.scrollIntoView({ block: 'center', inline: 'center' })
  const rect = focused.getBoundingClientRect()
  const out = parseFloat(style.outlineOffset) + width / 2
  const midX = rect.left + rect.width / 2
  const midY = rect.top + rect.height / 2
  const points = [[midX, rect.top - out], [midX, rect.bottom + out], [rect.left - out, midY], [rect.right + out, midY]]
  let lowest = 21
  for (const [x, y] of points) {
    // What is drawn there, the focused element and what it holds aside (the ring is painted over it all).
    let behind = document.elementsFromPoint(x, y).find((e) => e !== focused && !focused.contains(e)) ?? document.documentElement
    // The root's background, when it has none, is the body's (CSS propagates it to the canvas).
    if (behind === document.documentElement && parse(getComputedStyle(behind).backgroundColor)[3] === 0) behind = document.body
    const ring = over(parse(style.outlineColor), backgroundOf(behind))
    lowest = Math.min(lowest, ratio(ring, backgroundOf(behind)))
  }
  return Math.round(lowest * 100) / 100
})()`
