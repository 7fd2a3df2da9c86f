//! The English lexicons.

use super::{Cat, LexiconData, Marker};

// =======================================================================================
// The lexicons. Syntax: phrases separated by `,`; `a/b` alternatives for one word; a
// trailing `*` matches any ending. Write words as people say them; folding (`don't` →
// `dont`, `ü` → `ue`, `č` → `c`) happens when the lexicon is built.

pub(super) static EN: LexiconData = LexiconData {
    english_merges: true,
    sentiment: EN_SENTIMENT,
    categories: EN_CATEGORIES,
    tones: EN_TONES,
    negators: "not never nothing nobody none neither nor without hardly \
        don't doesn't didn't isn't aren't wasn't weren't hasn't haven't hadn't can't cannot \
        couldn't won't wouldn't shouldn't mustn't needn't ain't",
    short_negators: "no",
    intensifiers: &[
        (
            0.5,
            "extremely incredibly absolutely utterly exceptionally hugely terribly awfully \
            enormously tremendously insanely",
        ),
        (
            0.3,
            "very really so totally completely truly highly super deeply especially \
            particularly thoroughly entirely genuinely seriously such real",
        ),
        (0.15, "too pretty quite rather"),
        (-0.3, "slightly somewhat bit little kinda fairly barely"),
    ],
    contrast: "but however although though",
    stop: EN_STOP,
};

pub(super) const EN_SENTIMENT: &[(f32, &str)] = &[
    // Said for politeness, not feeling: no weight, but they hide the words inside them.
    (
        0.0,
        "good morning, good afternoon, good evening, good night, good day, goodbye, \
         good bye, kind of, sort of, wrong number, pretty much, how are you, \
         can you recommend, could you recommend, would you recommend, do you recommend, \
         what do you recommend, as good as, good to know, no idea, help me, can you help, \
         could you help, thank you for calling, thanks for calling, thank you for holding, \
         thanks for holding, thank you for waiting, my pleasure, you're welcome",
    ),
    (
        0.3,
        "okay then, fair enough, that's fine, that's okay, it's okay, it's fine, alright then,
         sure, no thank you, no thanks, no thank you very much,
         have a nice/lovely/great/good/wonderful day/weekend/evening/afternoon,
         thank you for your patience, thanks for your patience, thank you for your time,
         thanks for your time",
    ),
    (
        0.6,
        "thank you, thanks, thank u, cheers, ta, welcome, please do",
    ),
    (
        0.8,
        "fine, better, works, working again, not a problem, no problem, no problems, \
         no worries, no rush, cheap, fair, interested, hopefully",
    ),
    (
        1.5,
        "helped, nice one, on time, in time, works fine, works well, fixed, solved, \
         resolved, sorted, lucky, glad to hear, good to hear, looking forward, \
         appreciate, appreciated, appreciate it, enjoy, enjoyed, enjoying, like it, \
         liked it, like them, liked them, quick, quickly, fast, easy, safely, arrived safely",
    ),
    (
        2.0,
        "good, great, nice, happy, glad, pleased, helpful, friendly, kind, polite, \
         impressed, satisfied, recommend, recommended, beautiful, beautifully, fresh, \
         healthy, efficient, reliable, professional, patient, well done, good job, \
         excited, congratulations, grateful, thankful, pleasant, smooth, better than expected, \
         thank you for your help, thanks for your help, thank you for all your help, \
         pleasure, love to, would love, i'd love, best, the best, good as new, works perfectly, \
         works great, lovely service, \
         great service, good service, very kind of you, kind of you, so kind",
    ),
    (
        2.3,
        "thank you so much, thanks so much, thank you very much, thanks very much, \
         thanks a lot, thank you a lot, many thanks, thanks a million, thank you ever so much, \
         much appreciated, really appreciate it, really appreciate",
    ),
    (
        3.0,
        "excellent, amazing, awesome, fantastic, wonderful, brilliant, outstanding, \
         perfect, perfectly, superb, delighted, thrilled, love, loved, loves, loving, \
         lovely, gorgeous, best ever, exceptional, marvellous, marvelous, magnificent, \
         made my day, lifesaver, life saver, over the moon, stunning, incredible, \
         right on time, top notch, spot on, second to none, highly recommend",
    ),
    // Negative.
    (
        -0.3,
        "sorry, wait, hold on, i'm afraid, cancel, return, returned, return it, \
         exchange it, sorry to hear that, sorry to hear, sorry for the inconvenience, \
         sorry about the inconvenience, apologies for the inconvenience, \
         i understand that is frustrating, i understand how frustrating, \
         i understand your frustration, i know how frustrating, i can imagine how frustrating, \
         i can imagine that is frustrating, that must be frustrating",
    ),
    (
        -0.8,
        "waiting, not sure, unsure, expensive, pricey, cancelled, canceled, \
         unfortunately, weeks ago",
    ),
    (
        -1.0,
        "problem, problems, issue, issues, trouble, confused, confusing, concerned, \
         difficult, refund, refunded, a refund, waited, slow, slowly, stuck, \
         not what i expected, too late, price went up, went up, \
         gone up, cheaper somewhere else, cheaper elsewhere, sick",
    ),
    (
        -1.5,
        "worried, worry, worrying, nervous, anxious, scared, afraid, stressed, stressful, \
         complain, complained, complaining, complaint, complaints, money back, late, \
         delayed, delay, delays, missing, lost, mistake, mistakes, error, errors, wrong, \
         cracked, crack, cracks, leaking, leaks, leak, torn, ripped, scratched, dented, \
         bent, chipped, wilted, withered, mouldy, moldy, rotten, shame, pity, sad, \
         ignored, unreliable, overpriced, over priced, for ages, for weeks, for months, \
         for days, again and again, over and over, keep calling, kept calling, every time, \
         on hold, stopped, failed, fail, fails, failure, not happy, don't understand, \
         doesn't make sense, makes no sense, charged me, bad time, wasn't there, \
         wasn't home, too long, took ages, still nothing, nobody answers, \
         nobody answered, no answer, no reply, no response",
    ),
    (
        -2.0,
        "bad, poor, poorly, damaged, damage, faulty, defective, worse, mess, messed up, \
         dead, died, dying, broke, broken, breaks, unhappy, upset, annoyed, annoying, \
         frustrated, frustrating, rude, unhelpful, careless, dirty, ugly, wrong item, \
         wrong size, wrong colour, wrong color, wrong one, wrong address, not what i ordered, \
         i want a refund, i want my money back, want my money back, refund me, \
         nobody called me back, no one called me back, never called me back, \
         nobody called back, nobody showed up, no one showed up, nobody came, \
         no one came, didn't show up, didn't turn up, never showed up, never came, \
         doesn't work, don't work, didn't work, not working, won't work, won't start, \
         won't turn on, doesn't turn on, does nothing, stopped working, \
         still hasn't arrived, still haven't arrived, still not arrived, still not here, \
         hasn't arrived yet, haven't arrived yet, hasn't arrived, haven't arrived, \
         never arrived, never got it, never received, didn't arrive, didn't get, \
         haven't received, hasn't come, still waiting, waiting for weeks, waiting for months,
         waiting for two/three/four/five/six/several/many weeks/months/days,
         waiting for a week/month, waiting for a few/couple weeks/months/days,
         waiting for a couple of weeks/months/days, there's nothing, nothing at the door,
         nothing at my door, nothing came, nothing arrived, nothing here, nothing was delivered,
         it's not here, isn't here, not at my door, \
         waiting for ages, waiting all day, waited all day, all day waiting, \
         charged twice, double charged, charged me twice, charged my card twice,
         charged my account twice, charged us twice, paid twice, taken twice, overcharged,
         poor quality, \
         bad quality, cheap quality, falling apart, fell apart, came apart, \
         disappointed, disappointing, disappointment, let down, let me down",
    ),
    (
        -3.0,
        "unacceptable, not acceptable, terrible, terribly bad, horrible, awful, disgusting, \
         disgraceful, disgrace, outrageous, ridiculous, appalling, atrocious, pathetic, \
         worst, useless, hopeless, furious, livid, angry, hate, hated, scam, rip off, \
         ripped off, rubbish, garbage, shocking, incompetent, nightmare, never again, \
         a joke, absolute joke, waste of money, waste of time, fed up, sick and tired, \
         had enough, not good enough, shameful, lies, lied, liar, lying, insulting, \
         a disaster, disaster, unbelievable, shambles, joke of a",
    ),
];

pub(super) const EN_CATEGORIES: &[(Cat, f32, &str)] = &[
    (
        Cat::Complaint,
        3.5,
        "complain*, make a complaint, refund*, money back, my money back, charged twice, \
         double charged, charged me twice, charged my card twice, charged my account twice, \
         charged us twice, paid twice, taken twice, overcharged, overcharge, not what i ordered, \
         stopped working, not happy with, unhappy with, poor quality, bad quality",
    ),
    (
        Cat::Complaint,
        3.0,
        "arrived/came/delivered broken/damaged/dead/cracked/smashed/crushed/wilted,
         arrived in pieces, broken, broke, damage*, faulty, defective, doesn't work, don't work, didn't work, \
         not working, won't work, won't start, won't turn on, doesn't turn on, \
         wrong item, wrong size, wrong colour, wrong color, wrong one, rude, unhelpful, \
         falling apart, fell apart, came apart, dead, died, dying, \
         report a problem, unacceptable, nobody called me back, no one called me back, \
         never called me back, let down, disappointed with",
    ),
    (
        Cat::Complaint,
        2.0,
        "crack*, leak*, torn, ripped, scratch*, dent*, chipped, bent, rotten, mouldy, moldy, \
         wilted, withered, return it, return them, send it back, send them back, \
         replace*, replacement, disappointed, disappointing, poor service, bad service, \
         terrible, awful, rubbish, useless, fault, mistake, wrong",
    ),
    (
        Cat::Complaint,
        1.0,
        "return, returns, exchange, problem, problems, issue, issues, quality, \
         not happy, again and again, keep calling, kept calling, charged, charge",
    ),
    (
        Cat::Complaint,
        0.5,
        "manager, speak to a manager, speak to the manager, speak to your manager",
    ),
    // Not about the shop's business at all.
    (Cat::Complaint, 0.0, "wrong number"),
    (
        Cat::Question,
        0.0,
        "can i speak to, could i speak to, may i speak to, can i talk to, could i talk to",
    ),
    (
        Cat::Delivery,
        3.0,
        "tracking, tracking number, track my, track it, where is my order, \
         where's my order, where is my parcel, where is my package, where is my delivery, \
         where is it, when will it arrive, when will they arrive, when will my order arrive, \
         when will it be delivered, when will they be delivered, still hasn't arrived, \
         still haven't arrived, hasn't arrived, haven't arrived, never arrived, \
         didn't arrive, not arrived, in transit, out for delivery, lost in the post,
         nothing at the door, nothing at my door, nothing came, nothing arrived,
         nothing was delivered, not at my door, \
         delivery address, delivery date, delivery time, shipping cost, postage",
    ),
    (
        Cat::Delivery,
        2.5,
        "deliver*, courier*, parcel*, package*, shipping, shipment, shipped, dispatch*, \
         postman, post office, driver, \
         nobody showed up, no one showed up, didn't show up, never showed up, \
         didn't turn up, nobody came, no one came, left at the door, left outside, \
         van, truck, lorry, send it to, send them to, sent to, ship it, ship them",
    ),
    (
        Cat::Delivery,
        1.5,
        "address, on time, late, delay*, doorstep, door, sent, send, shipping to, post, \
         neighbour, neighbor, showed up, turn up",
    ),
    (Cat::Delivery, 2.0, "arrive, arrived, arrives, arriving, arrival"),
    (Cat::Delivery, 1.0, "came, come, bring, brought"),
    (
        Cat::Order,
        3.0,
        "i'd like to order, i would like to order, i want to order, like to order, \
         place an order, make an order, put in an order, i'd like to buy, i want to buy, \
         want to buy, like to buy, looking to buy, how much is, how much are, how much does, \
         how much do, how much would, how much for, price of, prices of, in stock, \
         out of stock, back in stock, add to my order, add to the order, \
         cancel my order, change my order, gift card, gift voucher, special offer, \
         on sale, discount",
    ),
    (
        Cat::Order,
        2.0,
        "order, orders, buy, buying, purchase*, price, prices, cost, costs, pricing, \
         available, availability, offer, offers, deal, deals, sale, voucher*, coupon*, \
         discount*, reserve, reserved, reservation, quote, catalogue, catalog, \
         pick up, pick it up, pick them up, pickup, collect*, checkout, payment, \
         pay, paying, invoice, cheaper, expensive, interested in, set aside, cancel, \
         to the order, to my order",
    ),
    (
        Cat::Order,
        0.8,
        "ordered, my order, the order, bought, placed, add",
    ),
    (
        Cat::Question,
        3.0,
        "i have a question, i've got a question, quick question, a question about, \
         opening hours, opening times, closing time, what time do you open, \
         what time do you close, are you open, when are you open, when do you open, \
         when do you close, how often should, how often do, how do i, how can i, \
         how should i, is it safe, can you recommend, could you recommend, \
         what do you recommend, which would you recommend, do you recommend",
    ),
    (
        Cat::Question,
        2.0,
        "question, questions, i was wondering, wondering, could you tell me, \
         can you tell me how, can you tell me if, do you know if, do you know how, \
         do you know, how to, how often, how much water, advice, advise, \
         recommend*, suggest*, information, explain, instructions, is it possible, \
         do you sell, do you have any, do you do, do you offer, where are you, \
         where is your, located, directions, parking, park near, open on, open at, \
         open today, open tomorrow, open during, safe for, good for, best for, best way, \
         what kind, which kind, what type, should i, when should",
    ),
    (
        Cat::Question,
        1.0,
        "do you have, can i, is there, are there, is it, does it, what is, what's, \
         which, how, open",
    ),
    (Cat::Question, 0.5, "what, when, why, where, who, could you, can you, would it"),
];

pub(super) const EN_TONES: &[(Marker, f32, &str)] = &[
    (
        Marker::Anger,
        1.0,
        "unacceptable, not acceptable, ridiculous, outrageous, disgusting, disgrace*, \
         appalling, pathetic, incompetent, useless, furious, livid, angry, fed up, \
         sick and tired, had enough, a joke, absolute joke, never again, worst, \
         rip off, ripped off, scam, rubbish, lawyer, solicitor, sue you, trading standards, \
         how dare, shut up, stupid, idiot*, damn, bloody, hate, hopeless, \
         not good enough, waste of time, waste of money, liar, lied, lies, shambles",
    ),
    (
        Marker::Impatience,
        1.5,
        "still hasn't arrived, still haven't arrived, still not arrived, still not here, \
         still waiting, still nothing, again and again, over and over, keep calling, \
         kept calling, how many times, every time i call, third time, second time, \
         for weeks, for months, for ages, all day, as soon as possible, asap, right now,
         for two/three/four/five/six/several/many weeks/months/days,
         for a few/couple weeks/months/days, for a couple of weeks/months/days, \
         right away, immediately, hurry, hurry up, urgent, urgently, took ages, too long, \
         how much longer, i need it today, fix this today, sort this out, on hold for",
    ),
    (
        Marker::Impatience,
        1.0,
        "still, again, already, how long, waiting, waited, finally, nobody called me back, \
         no one called me back, never called me back, nobody showed up, no one showed up, \
         on hold, for days, weeks ago, months ago",
    ),
    (
        Marker::Anxiety,
        1.0,
        "worried, worry, worrying, anxious, nervous, concerned, afraid, scared, panic*, \
         stressed, stressful, i hope, hopefully, in time for, what if, is it safe, \
         make sure, need it by, really need",
    ),
    (
        Marker::Confusion,
        1.5,
        "i don't understand, don't understand, didn't understand, don't get it, \
         doesn't make sense, makes no sense, what do you mean, confused, confusing, \
         i'm lost, can you explain, could you explain, explain again, say that again, \
         repeat that, sorry what, pardon, i'm not sure how, not sure how, \
         don't know how, no idea how",
    ),
    (
        Marker::Confusion,
        0.5,
        "not sure, i don't know, unsure, which one, how does it work, how do i, \
         i thought, instructions",
    ),
    (
        Marker::Apology,
        1.0,
        "sorry, apologise, apologize, apologies, my apologies, i apologise, we apologise, \
         so sorry, very sorry, really sorry, sorry about that, sorry for, sorry to hear, \
         forgive, my mistake, our mistake, my fault, our fault, we regret, regret",
    ),
    (
        Marker::Politeness,
        1.0,
        "please, thank you, thanks, would you, could you, may i, if you don't mind, \
         would you mind, sorry to bother you, sorry to bother, excuse me, appreciate, \
         certainly, of course, you're welcome, good morning, good afternoon, \
         good evening, hello, goodbye, sir, madam, kind regards, is there anything else, \
         anything else i can help, thank you for calling, thanks for calling, \
         thank you for your patience, thanks for your patience, bear with me",
    ),
    (
        Marker::Friendliness,
        1.0,
        "lovely, wonderful, brilliant, amazing, awesome, fantastic, thank you so much, \
         thanks so much, thanks a lot, many thanks, really appreciate, have a nice day, \
         have a lovely day, have a great day, have a good day, have a nice weekend, \
         have a good weekend, take care, happy to help, glad to help, my pleasure, \
         glad to hear, good to hear, nice to hear, how are you, nice to meet, \
         love, loved, loves, you've been very helpful, very helpful, so helpful, \
         very kind, so kind, kind of you, enjoy, great, perfect, excellent, \
         best, congratulations, delighted",
    ),
    (
        Marker::Calm,
        1.0,
        "no problem, not a problem, no worries, that's fine, that's okay, it's okay, \
         it's alright, it's fine, take your time, no rush, no hurry, i understand, \
         fair enough, i see, makes sense, sounds good, don't worry, never mind, \
         that's alright, understood, okay, alright, sure",
    ),
];

pub(super) const EN_STOP: &str = "
a about above after again against ago all almost along already also although always am
among an and another any anybody anyone anything anyway anywhere are around as at away
back be became because become been before being below between both but by
call called calling calls came can come comes coming could
day days did do does doing done down during
each either else enough even ever every everybody everyone everything everywhere
few first for from further
get gets getting give given go goes going gone got gotten
had has have having he her here hers herself him himself his how however
i if in into is it its itself
just keep kind know known knows
last later least less let lets like likely little look looking lot lots
made make makes making many may maybe me mean means might mine more morning most much
must my myself
need needed needs never new next no nor not now
of off often oh ok okay on once one only onto or other others otherwise our ours
ourselves out over own
part per perhaps please put
quite rather really right
said same say saying says see seem seems seen several shall she should since so some
somebody someone something sometime sometimes somewhere soon sorry still such sure
take taken tell telling than thank thanks that the their theirs them themselves then
there these they thing things think this those though thought through till time times
to today together told tomorrow too took toward towards try trying
um uh uhm umm hmm mm mhm ah er erm eh
under until up upon us use used using usually
very via
want wanted wants was way we well went were what whatever when whenever where wherever
whether which while who whoever whole whom whose why will wish with within without
would
yeah yep yes yet you your yours yourself yourselves yesterday
hello hi hey bye goodbye alright ah actually basically literally anyway anyways
week weeks month months year years hour hours minute minutes second seconds
monday tuesday wednesday thursday friday saturday sunday
two three four five six seven eight nine ten
im ive ill id its thats whats wheres theres youre theyre dont doesnt didnt isnt arent
wasnt werent hasnt havent hadnt cant couldnt wont wouldnt shouldnt youve youll youd
weve well were theyve theyll hes shes wed lets
great good fine nice lovely perfect excellent wonderful amazing awesome fantastic
brilliant thank speak talk ask asked asking help helped wondering calling number
question hear heard understand happy glad
send sent sending show showed shown came bring brought check checked leave left find
found gave kept wait waiting waited ordered bought placed tried says
";
