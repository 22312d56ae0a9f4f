package webui

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// DefaultLanguage is the language of the catalogue every other falls
// back to.
const DefaultLanguage = "en"

// catalogue holds the user-facing strings by language and message id.
// English is complete; other languages may omit ids (English is used).
var catalogue = map[string]map[string]string{
	"en": {
		"sign_in_title":        "Sign in",
		"sign_in_to":           "Sign in to continue to %s",
		"username":             "Username or email",
		"password":             "Password",
		"sign_in_button":       "Sign in",
		"login_failed":         "Incorrect username or password.",
		"too_many_attempts":    "Too many attempts. Please wait a moment and try again.",
		"consent_title":        "Allow access?",
		"consent_intro":        "would like to:",
		"allow":                "Allow",
		"deny":                 "Deny",
		"privacy_policy":       "Privacy policy",
		"terms":                "Terms of service",
		"details":              "About this app",
		"signed_in_as":         "Signed in as %s",
		"scope_openid":         "Know who you are",
		"scope_profile":        "See your name and basic profile",
		"scope_email":          "See your email address",
		"scope_address":        "See your postal address",
		"scope_phone":          "See your phone number",
		"scope_offline_access": "Stay connected when you are not using it",
		"service_identity":     "Your identity",
		"error_title":          "Something went wrong",
		"account_title":        "Your account",
		"connected_apps":       "Connected apps",
		"revoke":               "Revoke access",
		"no_apps":              "No apps are connected to your account.",
		"change_password":      "Change password",
		"current_password":     "Current password",
		"new_password":         "New password",
		"confirm_password":     "Confirm the new password",
		"save":                 "Save",
		"sign_out":             "Sign out",
		"password_changed":     "Your password has been changed.",
		"access_revoked":       "Access has been revoked.",
		"signed_out":           "You have been signed out.",
		"set_password_title":   "Choose a password",
		"password_set":         "Your password has been set. You can now sign in.",
		"passwords_differ":     "The passwords do not match.",
		"password_too_short":   "Use at least 8 characters.",
		"password_too_long":    "Use at most 256 characters.",
		"wrong_password":       "The current password is incorrect.",
		"link_invalid":         "This link is invalid or has expired.",
		"request_expired":      "This sign-in request has expired or was already used. Please return to the application and start again.",
		"wrong_browser":        "This sign-in request was started in another browser. Please return to the application and start again.",
		"forbidden":            "The form has expired. Please reload the page and try again.",
		"continue":             "Continue",
		"redirecting":          "Returning to the application…",

		// RP-initiated logout confirmation (SECURITY.md W8).
		"logout_title":        "Sign out of %s?",
		"logout_requested_by": "%s asks to sign you out.",
		"stay_signed_in":      "Stay signed in",
		"still_signed_in":     "You are still signed in.",

		// Device authorization page (RFC 8628 §3.3, §5.4).
		"device_title":         "Connect a device",
		"device_intro":         "Enter the code shown on your device.",
		"device_code_label":    "Code",
		"device_invalid":       "That code is invalid or has expired. Check the code on your device and try again.",
		"device_confirm_title": "Connect this device?",
		"device_confirm_intro": "on a device is asking for access to your account.",
		"device_warning":       "Only allow this if you started the sign-in on your device yourself and it shows the code above. Never enter a code someone sent you.",
		"device_approved":      "Your device is connected. You can return to it now.",
		"device_denied":        "The device was not connected.",

		// Backchannel authentication approval (OpenID Connect CIBA Core 1.0).
		"ciba_title":     "Sign-in requests",
		"ciba_intro":     "is asking you to sign in to it with your account.",
		"ciba_none":      "There are no pending sign-in requests.",
		"ciba_binding":   "Code shown by the app:",
		"ciba_warning":   "Only allow this if you started the sign-in yourself and the app shows the same code.",
		"ciba_invalid":   "That request is no longer pending.",
		"ciba_approved":  "The request was approved. You can return to the app now.",
		"ciba_denied":    "The request was denied.",
		"ciba_link_text": "Open the sign-in request that was sent to you by e-mail.",
	},
	"fr": {
		"sign_in_title":     "Connexion",
		"sign_in_to":        "Connectez-vous pour continuer vers %s",
		"username":          "Nom d'utilisateur ou e-mail",
		"password":          "Mot de passe",
		"sign_in_button":    "Se connecter",
		"login_failed":      "Nom d'utilisateur ou mot de passe incorrect.",
		"too_many_attempts": "Trop de tentatives. Patientez un instant puis réessayez.",
		"consent_title":     "Autoriser l'accès ?",
		"consent_intro":     "souhaite :",
		"allow":             "Autoriser",
		"deny":              "Refuser",
		"privacy_policy":    "Politique de confidentialité",
		"terms":             "Conditions d'utilisation",
		"details":           "À propos de cette application",
		"signed_in_as":      "Connecté en tant que %s",
		"error_title":       "Une erreur est survenue",
		"sign_out":          "Se déconnecter",
		"continue":          "Continuer",

		// RP-initiated logout confirmation (SECURITY.md W8).
		"logout_title":        "Se déconnecter de %s ?",
		"logout_requested_by": "%s demande à vous déconnecter.",
		"stay_signed_in":      "Rester connecté",
		"still_signed_in":     "Vous êtes toujours connecté.",
		"signed_out":          "Vous avez été déconnecté.",

		// Page des appareils (RFC 8628 §3.3, §5.4).
		"device_title":         "Connecter un appareil",
		"device_intro":         "Saisissez le code affiché sur votre appareil.",
		"device_code_label":    "Code",
		"device_invalid":       "Ce code est invalide ou a expiré. Vérifiez le code affiché sur votre appareil et réessayez.",
		"device_confirm_title": "Connecter cet appareil ?",
		"device_confirm_intro": "sur un appareil demande l'accès à votre compte.",
		"device_warning":       "N'autorisez l'accès que si vous avez vous-même lancé la connexion sur votre appareil et qu'il affiche le code ci-dessus. Ne saisissez jamais un code que quelqu'un vous a envoyé.",
		"device_approved":      "Votre appareil est connecté. Vous pouvez y retourner.",
		"device_denied":        "L'appareil n'a pas été connecté.",
	},
}

// Localizer picks strings of one language.
type Localizer struct{ Lang string }

// T returns the message id in the localizer's language, formatted with
// args; unknown ids return the id itself, which a test catches.
func (l Localizer) T(id string, args ...any) string {
	msg, ok := catalogue[l.Lang][id]
	if !ok {
		if msg, ok = catalogue[DefaultLanguage][id]; !ok {
			return id
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// Has reports whether id exists in the catalogue.
func Has(id string) bool {
	_, ok := catalogue[DefaultLanguage][id]
	return ok
}

// ChooseLanguage picks from ui_locales (OIDC Core §3.1.2.1, space
// separated, preferred first), then the Accept-Language header, then
// English.
func ChooseLanguage(uiLocales []string, r *http.Request) Localizer {
	for _, tag := range uiLocales {
		if l, ok := supported(tag); ok {
			return Localizer{Lang: l}
		}
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if l, ok := supported(tag); ok {
			return Localizer{Lang: l}
		}
	}
	return Localizer{Lang: DefaultLanguage}
}

func supported(tag string) (string, bool) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	_, ok := catalogue[base]
	return base, ok
}

// Languages lists the catalogue's languages, English first.
func Languages() []string {
	out := []string{DefaultLanguage}
	for l := range catalogue {
		if l != DefaultLanguage {
			out = append(out, l)
		}
	}
	slices.Sort(out[1:])
	return out
}
