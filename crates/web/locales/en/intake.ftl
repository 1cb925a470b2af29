## The resident request form, in English. Like resident.ftl, every language has this file
## with the same message ids. Service names, questions, hints and choices come from the
## service's definition file, in Welsh where the file has Welsh.

services-title = Contact the council
services-intro = Tell us about a problem or ask for a service. Choose what you want to do.
services-none = There is nothing to report online at the moment.
start-now = Start now
back = Back
continue = Continue
change = Change
not-answered = Not answered
yes = Yes
no = No
# $max (String) - the most characters an answer may have, such as "10,000"
character-limit = You can enter up to { $max } characters
date-hint = For example, 27 3 2026
date-day = Day
date-month = Month
date-year = Year
address-line-1 = Address line 1
address-line-2 = Address line 2 (optional)
address-town = Town or city
address-postcode = Postcode
optional = (optional)

## The resident's contact details.

contact-title = Your contact details
contact-intro = We will use these to tell you what is happening with your request.
contact-name = Full name
contact-email = Email address
contact-phone = UK phone number
contact-phone-hint = For a text message, give a mobile number.
contact-channel = How should we contact you?
channel-email = Email
channel-sms = Text message
contact-heading = Contact details
contact-name-missing = Enter your full name
contact-name-long = Your name must be 200 characters or fewer
contact-email-invalid = Enter an email address in the correct format, like name@example.com
contact-email-missing = Enter your email address, or choose text message
contact-phone-invalid = Enter a UK phone number, like 01632 960 001 or 07700 900 982
contact-phone-missing = Enter a mobile number, or choose email
contact-channel-missing = Select how we should contact you

## Check your answers, and what comes after.

check-title = Check your answers before sending your request
check-request-heading = Your request
check-send-heading = Now send your request
check-send-text = By sending this request you are confirming that, to the best of your knowledge, the details you are providing are correct.
check-send = Accept and send
answers-too-long = Your answers are too long: shorten the longest ones
duplicate-title = Have you already told us about this?
# $reference (String) - a case reference, such as CW-000123
duplicate-question = Is this the same as { $reference }?
duplicate-hint = In the last 24 hours we had a request like this from your email address or phone number.
duplicate-yes = Yes, it is the same
duplicate-no = No, this is a new request
duplicate-missing = Select yes if this is the same as your earlier request
already-title = We already have your request
# $reference (String)
already-reference = Your reference is { $reference }
already-text = You do not need to tell us again. We will be in touch about it.
done-title = Request sent
done-reference = Your reference number
done-next-heading = What happens next
# $date (String) - a date with its weekday, such as "Wednesday 9 December 2026"
done-due = We aim to deal with your request by { $date }.
done-email = We have sent you a confirmation email.
done-sms = We have sent you a confirmation text message.
done-keep = Keep your reference number: you will need it if you contact us about this request.
report-another = Report something else
expired-title = Sorry, you will have to start again
expired-text = You did not do anything for a while, so we deleted your answers to keep them safe.
start-again = Start again
not-found-title = Page not found
not-found-text = If you typed the web address, check it is correct.
too-many-requests-title = Too many requests
too-many-requests = Too many requests were sent from here. Wait 15 minutes, then try again.
unavailable-title = Sorry, there is a problem with the service
unavailable-text = Try again later. Your answers have been kept.

## Errors on a question. English mostly shows the service's own messages, which name the
## question; other languages show these, as does English for a place that is too long.

# $label (String) - the question
answer-missing = Enter an answer to “{ $label }”
answer-select = Select an answer to “{ $label }”
answer-too-long = Your answer to “{ $label }” is too long
answer-number = Your answer to “{ $label }” must be a number
answer-date = Your answer to “{ $label }” must be a real date

## The cookies page: the form's cookie.

cookies-request = When you fill in a request, one more cookie keeps your answers until you send it.
cookies-request-purpose = Keeps your answers while you fill in a request
cookies-request-expires = After 1 hour without an answer
