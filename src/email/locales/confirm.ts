import type { EmailLocale } from './types.ts';

// The signup confirmation email and the public signup/confirm pages, per locale
// (issue 14). Kept beside the digest's catalogs but apart from them: the digest
// templates never print these.

export interface ConfirmMessages {
  lang: string;
  subject: string;
  heading: string;
  body: string;
  button: string;
  ignore: string;
  /** Pages: the hosted form and the confirm link. */
  signupTitle: string;
  emailLabel: string;
  nameLabel: string;
  topicsLabel: string;
  localeLabel: string;
  submit: string;
  checkInbox: string;
  confirmTitle: string;
  confirmButton: string;
  confirmed: string;
  invalid: string;
  badInput: string;
  tooMany: string;
}

const zhHant: ConfirmMessages = {
  lang: 'zh-Hant-HK',
  subject: '請確認訂閱{{ list }}',
  heading: '確認你的訂閱',
  body: '有人（希望是你）用這個電郵地址訂閱了{{ brand }}的{{ list }}。按下面的按鈕確認後，我們才會寄出簡報。',
  button: '確認訂閱',
  ignore: '如果不是你，請忽略這封電郵：不確認，就不會收到任何簡報。',
  signupTitle: '訂閱電郵簡報',
  emailLabel: '電郵地址',
  nameLabel: '稱呼（可選）',
  topicsLabel: '關注主題（可選）',
  localeLabel: '語言',
  submit: '訂閱',
  checkInbox: '請查看電郵：我們已寄出確認連結（如果這個地址可以訂閱）。確認後才會開始收到簡報。',
  confirmTitle: '確認訂閱',
  confirmButton: '確認訂閱',
  confirmed: '已確認訂閱。謝謝！',
  invalid: '這個連結無效或已過期。請重新訂閱。',
  badInput: '請填寫有效的電郵地址。',
  tooMany: '嘗試次數太多，請稍後再試。',
};

const zhHans: ConfirmMessages = {
  ...zhHant,
  lang: 'zh-Hans',
  subject: '请确认订阅{{ list }}',
  heading: '确认你的订阅',
  body: '有人（希望是你）用这个电邮地址订阅了{{ brand }}的{{ list }}。按下面的按钮确认后，我们才会寄出简报。',
  button: '确认订阅',
  ignore: '如果不是你，请忽略这封电邮：不确认，就不会收到任何简报。',
  signupTitle: '订阅电邮简报',
  emailLabel: '电邮地址',
  nameLabel: '称呼（可选）',
  topicsLabel: '关注主题（可选）',
  localeLabel: '语言',
  submit: '订阅',
  checkInbox: '请查看电邮：我们已寄出确认链接（如果这个地址可以订阅）。确认后才会开始收到简报。',
  confirmTitle: '确认订阅',
  confirmButton: '确认订阅',
  confirmed: '已确认订阅。谢谢！',
  invalid: '这个链接无效或已过期。请重新订阅。',
  badInput: '请填写有效的电邮地址。',
  tooMany: '尝试次数太多，请稍后再试。',
};

const en: ConfirmMessages = {
  lang: 'en',
  subject: 'Please confirm your subscription to {{ list }}',
  heading: 'Confirm your subscription',
  body: 'Someone (we hope you) signed this address up for {{ brand }} {{ list }}. We send nothing until you confirm with the button below.',
  button: 'Confirm subscription',
  ignore: 'If this was not you, ignore this email: without confirmation you will receive nothing.',
  signupTitle: 'Subscribe to the email digest',
  emailLabel: 'Email address',
  nameLabel: 'Name (optional)',
  topicsLabel: 'Topics (optional)',
  localeLabel: 'Language',
  submit: 'Subscribe',
  checkInbox:
    'Check your inbox: we have sent a confirmation link (if this address can subscribe). Nothing is sent until you confirm.',
  confirmTitle: 'Confirm subscription',
  confirmButton: 'Confirm subscription',
  confirmed: 'Subscription confirmed. Thank you!',
  invalid: 'This link is invalid or has expired. Please sign up again.',
  badInput: 'Please enter a valid email address.',
  tooMany: 'Too many attempts; please try again later.',
};

const BY_LOCALE: Record<EmailLocale, ConfirmMessages> = {
  'zh-Hant-HK': zhHant,
  'zh-Hans': zhHans,
  'en-GB': { ...en, lang: 'en-GB' },
  'en-US': { ...en, lang: 'en-US' },
};

export function confirmMessages(locale: string | undefined): ConfirmMessages {
  if (locale && locale in BY_LOCALE) return BY_LOCALE[locale as EmailLocale];
  if (locale && /^zh-(Hans|CN|SG)/i.test(locale)) return zhHans;
  if (locale && /^en/i.test(locale)) return BY_LOCALE['en-GB'];
  return zhHant;
}
