import type { Catalogue } from './en.js'

/** The pages' French messages (lib/i18n/en.ts has the keys and says how they are written). */
export const fr: Catalogue = {
  'layout.secured_by': 'Sécurisé par {issuer}',

  'login.title': 'Connexion',
  'login.heading': 'Connexion',
  'login.continue_to': 'pour continuer vers {client}',
  'login.username': 'Nom d’utilisateur',
  'login.password': 'Mot de passe',
  'login.submit': 'Se connecter',
  'login.passkey': 'Se connecter avec une clé d’accès',
  'login.forgot': 'Mot de passe oublié ?',
  'login.or': 'ou',
  'login.continue_with': 'Continuer avec {provider}',
  'login.new_here': 'Nouveau ici ?',
  'login.create_account': 'Créer un compte',

  'consent.title': 'Autoriser l’accès',
  'consent.heading': 'Autoriser {client} à accéder à votre compte ?',
  'consent.described_by': 'Cette application est décrite par un document sur {host}.',
  'consent.not_verified': 'Non vérifiée :',
  'consent.registered_itself': 'cette application s’est inscrite elle-même.',
  'consent.describes_itself': 'cette application se décrit elle-même.',
  'consent.claims_name': 'Son nom est ce qu’elle affirme, non vérifié par {issuer}.',
  'consent.claims_name_uri': 'Son nom et son adresse sont ce qu’elle affirme, non vérifiés par {issuer}.',
  'consent.client_id': 'Son identifiant client est {id}.',
  'consent.says_it_is': 'Elle dit être {uri} (ce n’est pas un lien : vérifiez vous-même).',
  'consent.signed_in_as': 'Connecté en tant que {user}.',
  'consent.asks_for': '{client} demande :',
  'consent.api': 'Accès à {api}',
  'consent.device_code': 'N’autorisez ceci que si votre appareil affiche le code {code}.',
  'consent.allow': 'Autoriser',
  'consent.deny': 'Refuser',

  'error.title': 'Une erreur est survenue',
  'error.heading': 'Cette demande ne peut pas aboutir',
  'error.code': 'Erreur : {error}. Revenez à l’application d’où vous venez et réessayez.',
  'error.reference': 'Référence : {id}. Donnez-la au support si cela se reproduit.',

  'factor.title': 'Second facteur',
  'factor.heading': 'Confirmez que c’est vous',
  'factor.step_up': 'Il faut un second facteur en plus de votre connexion, {user}.',
  'factor.password_ok': 'Votre mot de passe est correct, {user}. Encore une étape.',
  'factor.code_label': 'Code de votre application d’authentification, ou code de secours',
  'factor.code_hint': 'Six chiffres de l’application, ou l’un de vos codes de secours (chacun ne sert qu’une fois).',
  'factor.continue': 'Continuer',
  'factor.someone_else': 'Se connecter avec un autre compte',

  'logout.title': 'Déconnexion',
  'logout.heading': 'Se déconnecter ?',
  'logout.signed_in_as': 'Connecté en tant que {user}.',
  'logout.client_asks': '{client} demande à vous déconnecter.',
  'logout.submit': 'Se déconnecter',

  'signed_out.title': 'Déconnecté',
  'signed_out.heading': 'Vous êtes déconnecté',
  'signed_out.lead': 'Vous pouvez fermer cette fenêtre.'
}
