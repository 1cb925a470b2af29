## What residents read, in English. Every language has one file like this, at
## locales/{language code}/resident.ftl, with the same message ids: a message missing from
## another language's file is shown in English. Plural forms follow each language's own rules
## (English has one and other; Welsh has zero, one, two, few, many and other).

## The page around every resident page.

# A council puts its own name here, in each language's file.
council-name = Your council
service-name = Council requests
# $title (String) - the page's own title
page-title = { $title } – { council-name }
page-title-error = Error: { $title } – { council-name }
skip-link = Skip to main content
service-information = Service information
phase-banner-tag = Beta
phase-banner-text = This is a new service. Your feedback will help us to improve it.
footer-links = Support links
footer-council = © { council-name }
cookies = Cookies
print-page = Print this page

## The cookies page.

cookies-intro = Cookies are small files saved on your phone, tablet or computer when you visit a website.
cookies-ours = We use one cookie, and only if you choose a language: it remembers your choice.
cookies-no-tracking = We do not use cookies to track you or to measure how you use this service.
cookies-table-caption = The cookies we use
cookies-name = Name
cookies-purpose = Purpose
cookies-expires = Expires
cookies-lang-purpose = Remembers the language you chose
cookies-lang-expires = After 1 year

## The language switch. `language-name` and `language-switch-to` are read in the language
## they name: they are the link to this file's language from a page in another.

language-switch-label = Choose a language
language-name = English
language-switch-to = Change the language to English

## Forms.

error-summary-title = There is a problem
error-prefix = Error

## The shared plan.

plan-title = Your plan
your-reference = Your reference
about-heading = What this is about
goal-heading = What we are aiming for
resident-actions-heading = What you need to do
council-actions-heading = What we will do
no-resident-actions = There is nothing you need to do at the moment.
no-council-actions = We have nothing planned at the moment.
messages-heading = Messages
no-messages = There are no messages yet.
message-from-you = You
reply-label = Write to us about your request
reply-hint = We will answer here, and by email or text message if you gave us your details. Do not include bank details or passwords.
send-message = Send message
success-title = Success
message-sent = Your message has been sent
message-empty = Enter your message
# $max (Number) - the most characters a message may have
message-too-long = Your message must be { $max } characters or fewer
# $date (String) - a date without its weekday, such as "4 December 2026"
action-due = Due by { $date }
action-done = Done
action-not-done = Not done yet
action-overdue = Overdue
# $date (String) - a date without its weekday
# $by (String) - who ticked it off: "resident" or "council"
action-completed = Completed on { $date } { $by ->
        [resident] by you
       *[council] by the council
    }
mark-done = Mark as done
undo = Undo
# $count (Number) - how many of the resident's actions are not done
actions-left = { $count ->
        [0] Nothing left to do
        [one] 1 thing left to do
       *[other] { $count } things left to do
    }

## A plan link that does not work: never says whether there is such a case.

link-not-working-title = This link does not work
link-not-working-expired = The link may have expired or been withdrawn.
link-not-working-typed = If you typed the link, check it is correct.
link-not-working-contact = Contact us to ask for a new link. Tell us your reference if you have it.

## Dates and times, in the GOV.UK style.

month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December
weekday-1 = Monday
weekday-2 = Tuesday
weekday-3 = Wednesday
weekday-4 = Thursday
weekday-5 = Friday
weekday-6 = Saturday
weekday-7 = Sunday
# $day (String), $month (String), $year (String)
date = { $day } { $month } { $year }
# $weekday (String), $day (String), $month (String), $year (String)
date-with-weekday = { $weekday } { $day } { $month } { $year }
# $period (String) - "midnight", "midday", "am" or "pm"
# $time (String) - the hour, and the minutes unless they are 0, on a 12-hour clock: "3:15", "10"
time = { $period ->
        [midnight] midnight
        [midday] midday
        [am] { $time }am
       *[pm] { $time }pm
    }
# $date (String), and the arguments of `time`
date-at-time = { $date } at { time }

## The shared plan, more.

plan-closed = This request is closed. The plan shows what was done.
action-not-available = That action cannot be changed here. Check your plan below.
too-many-attempts-title = Too many attempts
too-many-attempts = Too many links that do not work were tried from here. Wait 15 minutes, then try again.
