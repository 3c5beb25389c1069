/* global document, fetch, URLSearchParams, SimpleWebAuthnBrowser */
// The passkey buttons of the login, second-factor and account pages (served by routes/assets/, loaded with the
// page's CSP nonce after @simplewebauthn/browser's bundle). A form marked data-passkey="signin" or "register" asks
// its data-options URL for a challenge (a same-origin POST carrying the form's CSRF field), hands it to the browser's
// WebAuthn, puts the answer in the form's `response` field and submits the form: the server's answer is a page, as
// for any form. Without JavaScript or WebAuthn the passkey controls stay hidden.
(function () {
  'use strict'
  const webauthn = SimpleWebAuthnBrowser
  if (!webauthn.browserSupportsWebAuthn()) return

  async function options (form) {
    const body = new URLSearchParams({ csrf: form.elements.csrf.value })
    const res = await fetch(form.dataset.options, { method: 'POST', body, credentials: 'same-origin' })
    if (!res.ok) throw new Error(res.status === 429 ? 'Too many attempts: wait a minute, then try again.' : 'Passkeys are not available right now.')
    return res.json()
  }

  function say (form, text) {
    const out = form.querySelector('[data-passkey-error]')
    if (!out) return
    out.textContent = text
    out.hidden = text === ''
  }

  function submit (form, response) {
    form.elements.response.value = JSON.stringify(response)
    form.submit()
  }

  /** The browser's own words for a ceremony the person cancelled or that timed out, made plain. */
  function failure (form, err) {
    if (err && err.name === 'AbortError') return
    const cancelled = err && (err.name === 'NotAllowedError' || err.code === 'ERROR_CEREMONY_ABORTED')
    say(form, cancelled ? 'No passkey was used. Try again, or use your password.' : (err && err.message) || 'The passkey did not work.')
  }

  async function signIn (form, autofill) {
    say(form, '')
    try {
      const optionsJSON = await options(form)
      submit(form, await webauthn.startAuthentication({ optionsJSON, useBrowserAutofill: autofill }))
    } catch (err) {
      if (!autofill) failure(form, err)
    }
  }

  async function register (form) {
    say(form, '')
    try {
      const optionsJSON = await options(form)
      submit(form, await webauthn.startRegistration({ optionsJSON }))
    } catch (err) {
      failure(form, err)
    }
  }

  for (const form of document.querySelectorAll('form[data-passkey]')) {
    form.hidden = false
    const mode = form.dataset.passkey
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      if (mode === 'register') register(form)
      else signIn(form, false)
    })
    // Conditional UI: the username field offers this site's passkeys where the browser can (WebAuthn L3 §5.1.4.2).
    if (mode === 'signin' && form.dataset.autofill === 'on' && document.querySelector('input[autocomplete~="webauthn"]')) {
      webauthn.browserSupportsWebAuthnAutofill().then((yes) => { if (yes) signIn(form, true) })
    }
  }
})()
