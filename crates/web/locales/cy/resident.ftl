## Yr hyn y mae trigolion yn ei ddarllen, yn Gymraeg. What residents read, in Welsh: the message
## ids are those of locales/en/resident.ftl, where their arguments are described.

## Y dudalen o amgylch pob tudalen i drigolion.

council-name = Eich cyngor
service-name = Ceisiadau i'r cyngor
page-title = { $title } – { council-name }
page-title-error = Gwall: { $title } – { council-name }
skip-link = Neidio i'r prif gynnwys
service-information = Gwybodaeth am y gwasanaeth
phase-banner-tag = Beta
phase-banner-text = Mae hwn yn wasanaeth newydd. Bydd eich adborth yn ein helpu i'w wella.
footer-links = Dolenni cymorth
footer-council = © { council-name }
cookies = Cwcis
print-page = Argraffu'r dudalen hon

## Y dudalen cwcis.

cookies-intro = Ffeiliau bach yw cwcis sy'n cael eu cadw ar eich ffôn, eich llechen neu eich cyfrifiadur pan fyddwch chi'n ymweld â gwefan.
cookies-ours = Rydyn ni'n defnyddio un cwci, a dim ond os byddwch chi'n dewis iaith: mae'n cofio eich dewis.
cookies-no-tracking = Nid ydyn ni'n defnyddio cwcis i'ch olrhain nac i fesur sut rydych chi'n defnyddio'r gwasanaeth hwn.
cookies-table-caption = Y cwcis rydyn ni'n eu defnyddio
cookies-name = Enw
cookies-purpose = Diben
cookies-expires = Yn dod i ben
cookies-lang-purpose = Cofio'r iaith a ddewisoch chi
cookies-lang-expires = Ar ôl 1 flwyddyn

## Dewis iaith.

language-switch-label = Dewis iaith
language-name = Cymraeg
language-switch-to = Newid yr iaith i'r Gymraeg

## Ffurflenni.

error-summary-title = Mae problem wedi codi
error-prefix = Gwall

## Y cynllun a rennir.

plan-title = Eich cynllun
your-reference = Eich cyfeirnod
about-heading = Beth mae hyn yn ymwneud ag ef
goal-heading = Beth yw ein nod
resident-actions-heading = Beth sydd angen i chi ei wneud
council-actions-heading = Beth y byddwn ni'n ei wneud
no-resident-actions = Does dim byd y mae angen i chi ei wneud ar hyn o bryd.
no-council-actions = Does dim byd wedi'i gynllunio gennym ar hyn o bryd.
messages-heading = Negeseuon
no-messages = Does dim negeseuon eto.
message-from-you = Chi
reply-label = Ysgrifennwch atom am eich cais
reply-hint = Byddwn yn ateb yma, a thrwy e-bost neu neges destun os rhoesoch eich manylion i ni. Peidiwch â chynnwys manylion banc na chyfrineiriau.
send-message = Anfon neges
success-title = Llwyddiant
message-sent = Mae eich neges wedi cael ei hanfon
message-empty = Rhowch eich neges
# $max (Number) - the most characters a message may have
message-too-long = Rhaid i'ch neges fod yn { $max } nod neu lai
action-due = I'w wneud erbyn { $date }
action-done = Wedi'i wneud
action-not-done = Heb ei wneud eto
action-overdue = Yn hwyr
action-completed = { $by ->
        [resident] Wedi'i gwblhau gennych chi ar { $date }
       *[council] Wedi'i gwblhau gan y cyngor ar { $date }
    }
mark-done = Marcio fel wedi'i wneud
undo = Dadwneud
actions-left = { $count ->
        [zero] Does dim byd ar ôl i'w wneud
        [one] 1 peth ar ôl i'w wneud
        [two] 2 beth ar ôl i'w gwneud
        [few] { $count } pheth ar ôl i'w gwneud
        [many] { $count } pheth ar ôl i'w gwneud
       *[other] { $count } o bethau ar ôl i'w gwneud
    }

## Dolen cynllun nad yw'n gweithio.

link-not-working-title = Nid yw'r ddolen hon yn gweithio
link-not-working-expired = Efallai fod y ddolen wedi dod i ben neu wedi cael ei thynnu'n ôl.
link-not-working-typed = Os gwnaethoch chi deipio'r ddolen, gwiriwch ei bod yn gywir.
link-not-working-contact = Cysylltwch â ni i ofyn am ddolen newydd. Rhowch eich cyfeirnod i ni, os oes gennych chi un.

## Dyddiadau ac amseroedd.

month-1 = Ionawr
month-2 = Chwefror
month-3 = Mawrth
month-4 = Ebrill
month-5 = Mai
month-6 = Mehefin
month-7 = Gorffennaf
month-8 = Awst
month-9 = Medi
month-10 = Hydref
month-11 = Tachwedd
month-12 = Rhagfyr
weekday-1 = Dydd Llun
weekday-2 = Dydd Mawrth
weekday-3 = Dydd Mercher
weekday-4 = Dydd Iau
weekday-5 = Dydd Gwener
weekday-6 = Dydd Sadwrn
weekday-7 = Dydd Sul
date = { $day } { $month } { $year }
date-with-weekday = { $weekday } { $day } { $month } { $year }
time = { $period ->
        [midnight] hanner nos
        [midday] canol dydd
        [am] { $time }yb
       *[pm] { $time }yh
    }
# "am" softens "canol" to "ganol".
date-at-time = { $date } am { $period ->
        [midday] ganol dydd
       *[other] { time }
    }

## The shared plan, more.

plan-closed = Mae'r cais hwn wedi cau. Mae'r cynllun yn dangos beth a wnaed.
action-not-available = Does dim modd newid y cam hwnnw yma. Gwiriwch eich cynllun isod.
too-many-attempts-title = Gormod o ymdrechion
too-many-attempts = Mae gormod o ddolenni nad ydynt yn gweithio wedi cael eu rhoi cynnig arnynt o'r fan hon. Arhoswch 15 munud, yna rhowch gynnig arall arni.
