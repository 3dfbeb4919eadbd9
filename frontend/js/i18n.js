// Dutch by default, English one tap away. t(key, {params}) with {name} placeholders.
const NL = {
  brand: 'Capaciteit', skip: 'Naar inhoud', other_lang: 'EN', other_lang_label: 'English',
  logout: 'Uitloggen', logout_short: 'Uit', screens: 'Schermen',
  rule1: 'Acuut: altijd naar het dichtstbijzijnde ziekenhuis', rule2: 'U mag altijd bellen',
  rules: 'Vaste afspraken', loading: 'Laden…',
  nav_midwife: 'Regio', nav_mine: 'Mijn meldingen', nav_staff: 'Mijn afdeling', nav_analyst: 'Analyse',
  login_title: 'Inloggen', username: 'Gebruikersnaam', password: 'Wachtwoord', login: 'Inloggen',
  login_failed: 'Onjuiste gebruikersnaam of wachtwoord.', login_offline: 'Geen verbinding met de server.',
  login_intro: 'Actuele capaciteit van verloskamers, kraambedden en neonatologie. Alleen voor zorgverleners.',
  region: 'Regio', position: 'Uw positie', my_location: 'Mijn locatie (GPS)', choose_place: 'Kies een plaats…',
  place_gps: 'Uw locatie', no_position: 'Geen positie: kies een plaats voor afstanden.',
  distance_note: 'Afstand en rijtijd zijn een schatting: hemelsbreed × {factor} als wegafstand, gemiddeld {speed} km/u.',
  warn45: 'Let op: de dichtstbijzijnde plek met een vrije verloskamer is ~{min} min rijden (meer dan 45 min).',
  warn_none: 'Let op: in deze regio meldt niemand nu een vrije verloskamer.',
  conn_live: 'Live', conn_connecting: 'Verbinden…', conn_offline: 'Offline',
  conn_poll: 'Verbonden, ververst elke {s} s',
  picture_of: 'beeld van {time}', offline_note: 'Geen verbinding. U ziet het laatst bekende beeld van {time} ({ago}).',
  just_now: 'zojuist', min_ago: '{n} min geleden', h_ago: '{n} uur geleden', d_ago: '{n} dagen geleden',
  km: '{km} km', drive: '~{min} min rijden',
  free: '{n} vrij', full: 'vol', stop: 'stop', unknown: 'onbekend', stale_note: 'verouderd',
  of: 'van', not_reported: 'niet gemeld',
  stop_banner: 'STOP (volmelding): {reason}', stop_until: 'tot {time}', stop_open: 'einde onbekend',
  reason_beds: 'geen bedden', reason_staff: 'geen personeel', reason_other: 'andere reden',
  call: 'Bel {name}', call_short: 'Bellen', no_phone: 'Geen nummer bekend',
  refuse: 'Weigering melden', refusal_title: 'Weigering door {name}',
  category_q: 'Gevraagd', reason_q: 'Reden van weigering', optional: 'Optioneel',
  request_type_q: 'Soort verzoek', ga_q: 'Zwangerschapsduur (weken)', save: 'Opslaan', cancel: 'Annuleren',
  close: 'Sluiten', saved_refusal: 'Weigering opgeslagen. Uitkomst later invullen bij “Mijn meldingen”.',
  saved_offline: 'Niet opgeslagen: geen verbinding. Probeer het opnieuw.',
  r_no_bed: 'Geen bed', r_no_nurse: 'Geen verpleging', r_no_obstetrician: 'Geen gynaecoloog',
  r_neonatal_full: 'Neonatologie/NICU vol', r_stop: 'Stop actief', r_other: 'Anders',
  rt_non_medical: 'Poliklinisch', rt_medical: 'Medisch', rt_acute: 'Acuut',
  rt_antenatal_transfer: 'Antenatale overplaatsing', rt_neonatal_transfer: 'Neonatale overplaatsing',
  cat_delivery_room: 'Verloskamer', cat_maternity_bed: 'Kraambed', cat_obstetric_high_care: 'MCU / obst. HC',
  cat_neonatal_high_care: 'Neonatologie', cat_nicu: 'NICU',
  st_green: 'ruimte', st_orange: 'beperkt', st_red: 'vol', st_stop: 'stop', st_unknown: 'onbekend',
  announce_change: '{name}: {cat} nu {status}', announce_stop: '{name}: stop gemeld', announce_lift: '{name}: stop opgeheven',
  mine_title: 'Mijn meldingen', mine_empty: 'Nog geen weigeringen gemeld op dit apparaat.',
  mine_note: 'De uitkomst kan tot 24 uur na het melden worden ingevuld.',
  outcome: 'Uitkomst', o_placed: 'Geplaatst', o_placed_outside_region: 'Buiten de regio geplaatst',
  o_home_birth: 'Thuis bevallen (ongewild)', o_birth_en_route: 'Onderweg bevallen', o_unknown: 'Onbekend',
  placed_at: 'Geplaatst in', calls: 'Aantal telefoontjes', minutes: 'Minuten tot plaatsing',
  outcome_saved: 'Uitkomst opgeslagen.', too_late: 'Meer dan 24 uur geleden: niet meer te wijzigen.',
  shown_was: 'Getoond bij melden: {status}',
  staff_title: 'Mijn afdeling', available: 'Vrij', staffed: 'Bemand', minus: 'Eén minder', plus: 'Eén meer',
  save_figures: 'Cijfers opslaan', saved_figures: 'Cijfers opgeslagen.', last_change: 'Laatste wijziging: {time}',
  last_change_by: 'Laatste wijziging: {time} door {who}', never: 'nog nooit',
  you_here: 'u (dit apparaat)', not_for_staff: 'Dit account hoort niet bij een afdeling.',
  stop_title: 'Stop (volmelding)', stop_reason: 'Reden', stop_until_label: 'Verwacht einde (optioneel)',
  declare_stop: 'Stop melden', lift_stop: 'Stop opheffen', stop_active: 'Stop actief sinds {time}',
  no_stop: 'Geen stop actief.', stop_saved: 'Stop gemeld.', stop_lifted: 'Stop opgeheven.',
  error: 'Fout: {msg}', offline_save: 'Geen verbinding: niets opgeslagen.',
  analyst_title: 'Weigeringen en capaciteit', from: 'Van', to: 'Tot en met', all_regions: 'Alle regio’s',
  apply: 'Toon', total: 'Totaal weigeringen', other_refusals: 'Overige weigeringen', shown_available: 'Geweigerd terwijl groen/oranje getoond',
  ch_week_reason: 'Per week, naar reden', ch_facility: 'Per ziekenhuis', ch_heat: 'Uur van de dag × weekdag',
  ch_reason: 'Naar reden', ch_hours: 'Uren rood / stop / verouderd per ziekenhuis',
  downloads: 'Downloads', csv: 'CSV', xlsx: 'Excel (XLSX)', monthly: 'Maandrapport',
  suppressed: '< 5', no_data: 'Geen gegevens voor deze periode.', not_available: 'Nog niet beschikbaar in deze versie van de service.',
  small_cells: 'Cellen onder 5 worden niet getoond.',
  wd: ['ma', 'di', 'wo', 'do', 'vr', 'za', 'zo'],
};
const EN = {
  brand: 'Capacity', skip: 'Skip to content', other_lang: 'NL', other_lang_label: 'Nederlands',
  logout: 'Log out', logout_short: 'Out', screens: 'Screens',
  rule1: 'Acute: always to the nearest hospital', rule2: 'You may always phone',
  rules: 'Standing agreements', loading: 'Loading…',
  nav_midwife: 'Region', nav_mine: 'My reports', nav_staff: 'My ward', nav_analyst: 'Analysis',
  login_title: 'Sign in', username: 'Username', password: 'Password', login: 'Sign in',
  login_failed: 'Wrong username or password.', login_offline: 'Cannot reach the server.',
  login_intro: 'Current capacity of delivery rooms, maternity beds and neonatal care. For professionals only.',
  region: 'Region', position: 'Your position', my_location: 'My location (GPS)', choose_place: 'Choose a place…',
  place_gps: 'Your location', no_position: 'No position: choose a place to see distances.',
  distance_note: 'Distance and drive time are estimates: straight line × {factor} as road distance, {speed} km/h on average.',
  warn45: 'Warning: the nearest delivery room with room is ~{min} min away (more than 45 min).',
  warn_none: 'Warning: nobody in this region reports a free delivery room now.',
  conn_live: 'Live', conn_connecting: 'Connecting…', conn_offline: 'Offline',
  conn_poll: 'Connected, refreshed every {s} s',
  picture_of: 'picture of {time}', offline_note: 'No connection. You see the last known picture of {time} ({ago}).',
  just_now: 'just now', min_ago: '{n} min ago', h_ago: '{n} h ago', d_ago: '{n} days ago',
  km: '{km} km', drive: '~{min} min drive',
  free: '{n} free', full: 'full', stop: 'stop', unknown: 'unknown', stale_note: 'out of date',
  of: 'of', not_reported: 'not reported',
  stop_banner: 'STOP (closed to admissions): {reason}', stop_until: 'until {time}', stop_open: 'no end given',
  reason_beds: 'no beds', reason_staff: 'no staff', reason_other: 'other reason',
  call: 'Call {name}', call_short: 'Call', no_phone: 'No number known',
  refuse: 'Record refusal', refusal_title: 'Refused by {name}',
  category_q: 'Asked for', reason_q: 'Reason given', optional: 'Optional',
  request_type_q: 'Kind of request', ga_q: 'Gestational age (weeks)', save: 'Save', cancel: 'Cancel',
  close: 'Close', saved_refusal: 'Refusal saved. Add the outcome later under “My reports”.',
  saved_offline: 'Not saved: no connection. Please try again.',
  r_no_bed: 'No bed', r_no_nurse: 'No nurse', r_no_obstetrician: 'No obstetrician',
  r_neonatal_full: 'Neonatal/NICU full', r_stop: 'Stop in force', r_other: 'Other',
  rt_non_medical: 'Non-medical', rt_medical: 'Medical', rt_acute: 'Acute',
  rt_antenatal_transfer: 'Antenatal transfer', rt_neonatal_transfer: 'Neonatal transfer',
  cat_delivery_room: 'Delivery room', cat_maternity_bed: 'Maternity bed', cat_obstetric_high_care: 'Obstetric HC',
  cat_neonatal_high_care: 'Neonatal HC/MC', cat_nicu: 'NICU',
  st_green: 'room', st_orange: 'limited', st_red: 'full', st_stop: 'stop', st_unknown: 'unknown',
  announce_change: '{name}: {cat} now {status}', announce_stop: '{name}: stop declared', announce_lift: '{name}: stop lifted',
  mine_title: 'My reports', mine_empty: 'No refusals recorded on this device yet.',
  mine_note: 'The outcome can be added up to 24 hours after recording.',
  outcome: 'Outcome', o_placed: 'Placed', o_placed_outside_region: 'Placed outside the region',
  o_home_birth: 'Born at home (unplanned)', o_birth_en_route: 'Born en route', o_unknown: 'Unknown',
  placed_at: 'Placed at', calls: 'Number of calls', minutes: 'Minutes until placed',
  outcome_saved: 'Outcome saved.', too_late: 'More than 24 hours ago: can no longer be changed.',
  shown_was: 'Shown when recorded: {status}',
  staff_title: 'My ward', available: 'Free', staffed: 'Staffed', minus: 'One less', plus: 'One more',
  save_figures: 'Save figures', saved_figures: 'Figures saved.', last_change: 'Last change: {time}',
  last_change_by: 'Last change: {time} by {who}', never: 'never',
  you_here: 'you (this device)', not_for_staff: 'This account is not bound to a ward.',
  stop_title: 'Stop (closed to admissions)', stop_reason: 'Reason', stop_until_label: 'Expected end (optional)',
  declare_stop: 'Declare stop', lift_stop: 'Lift stop', stop_active: 'Stop in force since {time}',
  no_stop: 'No stop in force.', stop_saved: 'Stop declared.', stop_lifted: 'Stop lifted.',
  error: 'Error: {msg}', offline_save: 'No connection: nothing saved.',
  analyst_title: 'Refusals and capacity', from: 'From', to: 'To (inclusive)', all_regions: 'All regions',
  apply: 'Show', total: 'Total refusals', other_refusals: 'Other refusals', shown_available: 'Refused while shown green/orange',
  ch_week_reason: 'Per week, by reason', ch_facility: 'Per hospital', ch_heat: 'Hour of day × weekday',
  ch_reason: 'By reason', ch_hours: 'Hours red / stop / out of date per hospital',
  downloads: 'Downloads', csv: 'CSV', xlsx: 'Excel (XLSX)', monthly: 'Monthly report',
  suppressed: '< 5', no_data: 'No data for this period.', not_available: 'Not available in this version of the service yet.',
  small_cells: 'Cells under 5 are not shown.',
  wd: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
};
const DICTS = { nl: NL, en: EN };
export let lang = localStorage.getItem('cap.lang') === 'en' ? 'en' : 'nl';
export function setLang(l) { lang = l; localStorage.setItem('cap.lang', l); document.documentElement.lang = l; }
export function t(key, params) {
  let s = DICTS[lang][key] ?? NL[key] ?? key;
  if (params && typeof s === 'string') s = s.replace(/\{(\w+)\}/g, (_, k) => params[k] ?? '');
  return s;
}
export function ago(iso, now = Date.now()) {
  const m = Math.max(0, Math.floor((now - Date.parse(iso)) / 60000));
  if (m < 1) return t('just_now');
  if (m < 60) return t('min_ago', { n: m });
  if (m < 48 * 60) return t('h_ago', { n: Math.floor(m / 60) });
  return t('d_ago', { n: Math.floor(m / 1440) });
}
export function clock(iso) {
  const d = new Date(iso);
  const sameDay = d.toDateString() === new Date().toDateString();
  const opts = sameDay ? { hour: '2-digit', minute: '2-digit' } : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  return d.toLocaleString(lang === 'en' ? 'en-GB' : 'nl-NL', opts);
}
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
