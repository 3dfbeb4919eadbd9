// A 422's messages beside the fields they name, on the ward's forms.
import { t } from './i18n.js';

export function clearErrors(scope) {
  scope.querySelectorAll('.error').forEach(el => { el.textContent = ''; });
  scope.querySelectorAll('[aria-invalid]').forEach(el => el.removeAttribute('aria-invalid'));
}

// Put each message of a 422 beside the field its loc names (or the nearest enclosing one).
export function showFieldErrors(scope, err, fallback) {
  let placed = false;
  for (const [key, msg] of Object.entries(err.fields)) {
    const parts = key.split('.');
    while (parts.length) {
      const k = parts.join('.');
      const el = scope.querySelector(`[data-err="${CSS.escape(k)}"]`);
      if (el) {
        el.textContent = msg;
        const input = scope.querySelector(`[data-loc="${CSS.escape(k)}"]`);
        if (input) input.setAttribute('aria-invalid', 'true');
        placed = true;
        break;
      }
      parts.pop();
    }
  }
  if (!placed) fallback.textContent = err.offline ? t('offline_save') : t('error', { msg: err.message });
}
