## Y ffurflen gais i breswylwyr, yn Gymraeg.

services-title = Cysylltu â'r cyngor
services-intro = Rhowch wybod i ni am broblem neu gofynnwch am wasanaeth. Dewiswch beth rydych eisiau ei wneud.
services-none = Does dim byd i roi gwybod amdano ar-lein ar hyn o bryd.
start-now = Dechrau nawr
back = Yn ôl
continue = Parhau
change = Newid
not-answered = Heb ei ateb
yes = Ydy
no = Nac ydy
# $max (String)
character-limit = Gallwch roi hyd at { $max } o nodau
date-hint = Er enghraifft, 27 3 2026
date-day = Diwrnod
date-month = Mis
date-year = Blwyddyn
address-line-1 = Llinell gyntaf y cyfeiriad
address-line-2 = Ail linell y cyfeiriad (dewisol)
address-town = Tref neu ddinas
address-postcode = Cod post
optional = (dewisol)

## Manylion cyswllt y preswylydd.

contact-title = Eich manylion cyswllt
contact-intro = Byddwn yn defnyddio'r rhain i roi gwybod i chi beth sy'n digwydd gyda'ch cais.
contact-name = Enw llawn
contact-email = Cyfeiriad e-bost
contact-phone = Rhif ffôn yn y DU
contact-phone-hint = Ar gyfer neges destun, rhowch rif ffôn symudol.
contact-channel = Sut dylen ni gysylltu â chi?
channel-email = E-bost
channel-sms = Neges destun
contact-heading = Manylion cyswllt
contact-name-missing = Rhowch eich enw llawn
contact-name-long = Rhaid i'ch enw fod yn 200 nod neu lai
contact-email-invalid = Rhowch gyfeiriad e-bost yn y fformat cywir, fel enw@enghraifft.com
contact-email-missing = Rhowch eich cyfeiriad e-bost, neu dewiswch neges destun
contact-phone-invalid = Rhowch rif ffôn yn y DU, fel 01632 960 001 neu 07700 900 982
contact-phone-missing = Rhowch rif ffôn symudol, neu dewiswch e-bost
contact-channel-missing = Dewiswch sut dylen ni gysylltu â chi

## Gwirio eich atebion, a beth sy'n dod wedyn.

check-title = Gwiriwch eich atebion cyn anfon eich cais
check-request-heading = Eich cais
check-send-heading = Nawr anfonwch eich cais
check-send-text = Drwy anfon y cais hwn rydych yn cadarnhau bod y manylion rydych yn eu rhoi yn gywir, hyd eithaf eich gwybodaeth.
check-send = Derbyn ac anfon
answers-too-long = Mae eich atebion yn rhy hir: byrhewch yr hiraf
duplicate-title = Ydych chi eisoes wedi dweud wrthym am hyn?
# $reference (String)
duplicate-question = Ai'r un peth yw hwn â { $reference }?
duplicate-hint = Yn ystod y 24 awr diwethaf cawsom gais fel hwn o'ch cyfeiriad e-bost neu'ch rhif ffôn.
duplicate-yes = Ie, yr un peth ydyw
duplicate-no = Na, mae hwn yn gais newydd
duplicate-missing = Dewiswch ie os mai'r un peth yw hwn â'ch cais cynharach
already-title = Mae eich cais gennym eisoes
# $reference (String)
already-reference = Eich cyfeirnod yw { $reference }
already-text = Does dim angen i chi ddweud wrthym eto. Byddwn yn cysylltu â chi amdano.
done-title = Cais wedi'i anfon
done-reference = Eich cyfeirnod
done-next-heading = Beth sy'n digwydd nesaf
# $date (String)
done-due = Ein nod yw delio â'ch cais erbyn { $date }.
done-email = Rydym wedi anfon e-bost cadarnhau atoch.
done-sms = Rydym wedi anfon neges destun gadarnhau atoch.
done-keep = Cadwch eich cyfeirnod: bydd ei angen arnoch os byddwch yn cysylltu â ni am y cais hwn.
report-another = Rhoi gwybod am rywbeth arall
expired-title = Mae'n ddrwg gennym, bydd rhaid i chi ddechrau eto
expired-text = Wnaethoch chi ddim byd am gyfnod, felly rydym wedi dileu eich atebion i'w cadw'n ddiogel.
start-again = Dechrau eto
not-found-title = Heb ddod o hyd i'r dudalen
not-found-text = Os gwnaethoch deipio'r cyfeiriad gwe, gwiriwch ei fod yn gywir.
too-many-requests-title = Gormod o geisiadau
too-many-requests = Anfonwyd gormod o geisiadau o'r fan hon. Arhoswch 15 munud, yna rhowch gynnig arall arni.
unavailable-title = Mae'n ddrwg gennym, mae problem gyda'r gwasanaeth
unavailable-text = Rhowch gynnig arall arni yn nes ymlaen. Mae eich atebion wedi'u cadw.

## Gwallau ar gwestiwn.

# $label (String)
answer-missing = Rhowch ateb i “{ $label }”
answer-select = Dewiswch ateb i “{ $label }”
answer-too-long = Mae eich ateb i “{ $label }” yn rhy hir
answer-number = Rhaid i'ch ateb i “{ $label }” fod yn rhif
answer-date = Rhaid i'ch ateb i “{ $label }” fod yn ddyddiad go iawn

## Y dudalen cwcis: cwci'r ffurflen.

cookies-request = Pan fyddwch yn llenwi cais, mae un cwci arall yn cadw eich atebion nes i chi ei anfon.
cookies-request-purpose = Cadw eich atebion tra byddwch yn llenwi cais
cookies-request-expires = Ar ôl 1 awr heb ateb
