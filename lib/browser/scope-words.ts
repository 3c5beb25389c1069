/** The consent page lists scopes in words; unknown scopes are shown by name. An operator's templates may word them differently. */
const WORDS: Record<string, string> = {
  openid: 'Know who you are (your account id)',
  profile: 'See your name, username and profile (picture, locale, time zone…)',
  email: 'See your e-mail address',
  address: 'See your postal address',
  phone: 'See your phone number',
  admin: 'Administer this server: users, clients and keys'
}

export function describeScopes (scopes: string[]): Array<{ name: string, text: string }> {
  return scopes.map((name) => ({ name, text: WORDS[name] ?? `Access “${name}”` }))
}
