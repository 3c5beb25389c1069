/**
 * A QR code of `text` (an otpauth:// URI) as an SVG element, inlined in the page: made on the server, so no script
 * and no image from elsewhere (the pages' CSP allows neither). Presentation attributes only (no style attribute,
 * which the CSP would block). Medium error correction: readable off a screen at the size shown.
 */
export async function qrSvg (text: string, label = 'QR code'): Promise<string> {
  // Loaded on the first enrolment, not at every start (a quarter of a second on a loaded machine).
  const { default: QRCode } = await import('qrcode')
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
  return svg.trim().replace(/^<svg /, `<svg role="img" aria-label="${label.replace(/[<>&"]/g, '')}" width="200" height="200" `)
}
