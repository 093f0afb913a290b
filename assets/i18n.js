/* Jiayuan Kiosk — every string the resident screen shows, Mandarin (zh) and English (en).
 *
 * The screen shows both, Mandarin first by default; the language button swaps which one is large.
 * {name}-style placeholders are filled in by app.js (fmt()). Words the server sends (decision
 * messages, venue names, out-of-service notes) come with their own zh/en and are not repeated here.
 * Keep the sentences short and plain: many readers are over 70.
 */
window.I18N = {
  // Header
  centre: { zh: '家园中心', en: 'Jiayuan Home Centre' },
  reconnecting: { zh: '连接中…', en: 'Reconnecting…' },
  langToZh: { zh: '中文', en: 'Chinese' },    // the language button while English is first
  langToEn: { zh: '英文', en: 'English' },    // the language button while Mandarin is first
  weekdays: {
    zh: ['星期日', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六'],
    en: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
  },
  months: ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'],
  dateZh: '{m}月{d}日 {w}',
  dateEn: '{w} {d} {mon}',

  // (1) Idle
  scan: { zh: '请扫描会员卡', en: 'Please scan your membership card' },
  scanHint: { zh: '把卡上的二维码对准扫码器', en: 'Hold the QR code on your card to the scanner' },
  cardAlt: { zh: '会员卡和卡上的二维码', en: 'A membership card with its QR code' },
  venuesNow: { zh: '各场所现在的人数', en: 'People in each venue now' },
  people: { zh: '{n} / {c} 人', en: '{n} / {c} people' },
  peopleOnly: { zh: '{n} 人', en: '{n} people' },     // a venue with no capacity limit
  hours: { zh: '开放时间', en: 'Hours' },
  open: { zh: '开放中', en: 'Open' },
  closed: { zh: '已关闭', en: 'Closed' },
  full: { zh: '已满', en: 'Full' },
  loading: { zh: '正在载入…', en: 'Loading…' },
  demo: { zh: '演示扫码', en: 'Demo scan' },
  demoFailed: { zh: '演示扫码没有成功', en: 'The demo scan did not work' },

  // (2) Choose
  hello: { zh: '{name}，您好', en: 'Hello, {name}' },
  choose: { zh: '请点选您要去的场所', en: 'Please tap the place you are going to' },
  checkOut: { zh: '离开', en: 'Leave' },
  inside: { zh: '现有 {n} / {c} 人', en: '{n} of {c} places taken' },
  unavailable: { zh: '现在不能进入', en: 'Not available now' },
  reasons: {
    closed: { zh: '现在不开放', en: 'Closed now' },
    full: { zh: '人已满，请稍后再来', en: 'Full, please come back later' },
    not_eligible: { zh: '暂不对您开放', en: 'Not open to this membership' },
    guardian_code_required: { zh: '需要接送码', en: 'Pickup code needed' },
    other: { zh: '请到前台咨询', en: 'Please ask at the front desk' },
  },
  noneAllowed: { zh: '现在没有您可以进入的场所，请到前台', en: 'There is no venue you can enter now. Please see the front desk' },
  countdown: { zh: '{s} 秒后回到首页，点屏幕任何地方可延长', en: 'Back to the start in {s} s. Touch the screen for more time' },
  moreTime: { zh: '需要更多时间', en: 'More time' },
  cancel: { zh: '取消', en: 'Cancel' },
  chooseFailed: { zh: '没有办成，请再扫一次会员卡', en: 'That did not go through. Please scan your card again' },
  backToStart: { zh: '已回到首页', en: 'Back at the start' },

  // (2b) Children (household check-in at a guardian-code venue)
  kidsChoose: { zh: '请选择要签到的孩子，然后按确认', en: 'Choose the children to check in, then press Confirm' },
  kidsConfirm: { zh: '确认签到', en: 'Confirm' },
  kidsTicked: { zh: '已选', en: 'Chosen' },
  kidsNotTicked: { zh: '未选', en: 'Not chosen' },
  kidsInside: { zh: '已在场内', en: 'Already inside' },
  kidsNone: { zh: '请至少选择一位孩子', en: 'Please choose at least one child' },
  kidsNoneAllowed: { zh: '现在没有可以签到的孩子，请到前台', en: 'No child can be checked in now. Please see the front desk' },
  kidsIn: { zh: '已为 {n} 位孩子签到，请取接送条', en: '{n} checked in. Please take the pickup slip' },
  kidsOut: { zh: '已接走 {n} 位孩子', en: '{n} collected' },
  kidsInMark: { zh: '已签到', en: 'Checked in' },
  kidsOutMark: { zh: '已接走', en: 'Collected' },
  kidsCollect: { zh: '接孩子（输入接送码）', en: 'Collect children (type the code)' },
  padTitle: { zh: '请输入接送条上的接送码', en: 'Type the pickup code from the slip' },
  padDelete: { zh: '删除', en: 'Delete' },
  padCollect: { zh: '确认接走', en: 'Collect' },
  padEmpty: { zh: '请先输入接送码', en: 'Please type the pickup code first' },

  // (3) Result — titles; the sentence itself is decision.message from the server
  welcome: { zh: '欢迎', en: 'Welcome' },
  goodbye: { zh: '再见', en: 'Goodbye' },
  already: { zh: '您已签到', en: 'Already checked in' },
  seeDesk: { zh: '请到前台', en: 'Please see the front desk' },
  scanAgain: { zh: '请再扫一次', en: 'Please scan again' },
  notNow: { zh: '现在不能进入', en: 'Cannot enter now' },
  showPickup: { zh: '请出示接送码', en: 'Please show the pickup code' },
  askStaff: { zh: '请找工作人员', en: 'Please ask a member of staff' },
  helpDesk: { zh: '需要帮助，请到前台', en: 'Need help? Please see the front desk' },
  iconOk: { zh: '成功', en: 'Done' },
  iconNo: { zh: '未通过', en: 'Not admitted' },
  pickup: { zh: '接送码', en: 'Pickup code' },
  occNow: { zh: '{venue}现有 {n} / {c} 人', en: '{venue}: {n} of {c} places taken' },
  done: { zh: '完成', en: 'Done' },

  // (4) Out of service
  oosTitle: { zh: '暂停服务', en: 'Out of service' },
  oosHelp: { zh: '请到前台办理', en: 'Please see the front desk' },
  oosCode: { zh: '代码', en: 'Code' },
  netDownCode: 'NET-1',   // shown when the screen has lost the kiosk server for a while
};
