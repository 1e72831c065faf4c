/**
 * A document near the longest document-summary takes (60,000 characters): the annual review of a
 * parcel carrier's regional depots, a chapter of varied paragraphs per depot. And a scripted
 * endpoint's answers for document-summary built from each prompt, so any document runs to its end.
 */
import type { ChatBody, ScriptedModelServer } from './scripted-model.js';

interface Depot {
  city: string;
  area: string;
  manager: string;
  mix: string;
  peak: string;
  issue: string;
  project: string;
  partner: string;
}

const DEPOTS: Depot[] = [
  { city: 'Leeds', area: 'West Yorkshire and the Dales', manager: 'Hannah Okafor', mix: 'online fashion retailers and two large pharmacy chains', peak: 'a week of snow in late November closed the A65 twice', issue: 'the loading bay roof leaked through the autumn and three conveyor motors failed within a month', project: 'a parcel locker network in forty supermarkets', partner: 'the city council' },
  { city: 'Bristol', area: 'the city, Bath and North Somerset', manager: 'Tomasz Nowak', mix: 'independent shops selling through marketplaces and a regional garden centre group', peak: 'flooding on the M5 delayed trunk lorries on four nights in December', issue: 'parking restrictions in the old town forced drivers to walk long distances with heavy parcels', project: 'cargo bikes for the harbourside and the city centre', partner: 'a local cycling charity' },
  { city: 'Glasgow', area: 'the west of Scotland as far as Ayr', manager: 'Fiona MacLeod', mix: 'electronics retailers and a whisky distillery shipping gift boxes', peak: 'gales brought down power lines and the sorting hall ran on its generator for a day', issue: 'the depot lost a quarter of its evening shift when a new warehouse opened nearby', project: 'an apprenticeship with two further education colleges', partner: 'the regional skills agency' },
  { city: 'Norwich', area: 'Norfolk and north Suffolk', manager: 'Daniel Reyes', mix: 'farm shops, a seed supplier and online booksellers', peak: 'the rural rounds doubled in length because many villages received parcels for the first time', issue: 'long rural rounds left vans with little charge for the last drops of the day', project: 'solar panels on the sorting hall and the staff car park', partner: 'a community energy cooperative' },
  { city: 'Cardiff', area: 'South Wales from Newport to Swansea', manager: 'Rhian Evans', mix: 'sports retailers, a university and a maker of medical devices', peak: 'two rugby internationals in the city closed roads on Saturdays in November', issue: 'the scanner fleet was seven years old and failed more often every month', project: 'Welsh language labels and notices for customers who asked for them', partner: 'the university'},
  { city: 'Newcastle', area: 'Tyneside, Durham and Northumberland', manager: 'Graham Pike', mix: 'car parts wholesalers and a large online toy shop', peak: 'the toy shop sent three times its usual volume in the fortnight before Christmas', issue: 'a flat roof over the returns area had to be replaced during the summer', project: 'a returns desk where customers drop off parcels without a label', partner: 'a national retailer' },
  { city: 'Southampton', area: 'Hampshire, the New Forest and the Isle of Wight', manager: 'Priya Natarajan', mix: 'marine equipment suppliers and parcels arriving through the container port', peak: 'ferry cancellations stranded island parcels on the mainland for two days', issue: 'island deliveries depended on one ferry operator and one booking for each van', project: 'a small satellite depot on the Isle of Wight', partner: 'the ferry operator' },
  { city: 'Nottingham', area: 'Nottinghamshire and Derbyshire', manager: 'Samuel Adeyemi', mix: 'a mail order pharmacy, lace and textile makers and electronics returns', peak: 'the pharmacy asked for a Sunday collection in December to keep prescriptions moving', issue: 'medicines needed temperature checks that the depot had recorded on paper', project: 'temperature loggers for every cage that carries medicines', partner: 'the pharmacy'},
  { city: 'Plymouth', area: 'Devon and east Cornwall', manager: 'Chloe Trelawny', mix: 'holiday parks, surf shops and a dairy that sells cheese by post', peak: 'narrow lanes on Dartmoor were blocked by ice on three mornings in a row', issue: 'summer traffic on the A38 stretched rounds by an hour on most weekdays', project: 'smaller vans for the narrow lanes of the moor and the coast', partner: 'the national park authority' },
  { city: 'Belfast', area: 'Northern Ireland', manager: 'Ciaran Doyle', mix: 'linen makers, a software company shipping hardware and online grocers', peak: 'new customs paperwork for parcels from Great Britain slowed the first days of December', issue: 'customs declarations were checked by hand and held back a tenth of inbound parcels', project: 'automatic checks of customs data before the parcels reach the depot', partner: 'a customs broker' },
  { city: 'Aberdeen', area: 'Aberdeenshire, Moray and the northern isles', manager: 'Isla Grant', mix: 'offshore energy suppliers and fish merchants sending chilled boxes', peak: 'flights to the islands were grounded by fog on five days', issue: 'chilled boxes for the fish merchants needed a cold room the depot did not have', project: 'a cold room with space for two hundred chilled boxes', partner: 'the harbour board' },
  { city: 'Cambridge', area: 'Cambridgeshire and west Suffolk', manager: 'Oliver Brandt', mix: 'laboratories, science park companies and academic publishers', peak: 'laboratory samples and Christmas parcels competed for the same early vans', issue: 'laboratories asked for delivery before nine in the morning for samples that cannot wait', project: 'a timed early delivery service for laboratories', partner: 'the science park' },
];

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth'];

/** The paragraphs of one depot's chapter; figures vary with the depot, wording with its place in the list. */
function chapter(d: Depot, i: number): string[] {
  const staff = 140 + 23 * i;
  const vans = 60 + 9 * i;
  const parcels = (3.1 + 0.37 * i).toFixed(1);
  const growth = 4 + ((i * 3) % 9);
  const onTime = (91.2 + ((i * 7) % 6) * 0.9).toFixed(1);
  const firstAttempt = 85 + ((i * 5) % 10);
  const electric = 12 + ((i * 11) % 40);
  const injuries = 1 + (i % 4);
  const complaints = (6.5 - ((i * 3) % 5) * 0.8).toFixed(1);
  const turnover = 14 + ((i * 7) % 12);
  const hours = 20 + ((i * 4) % 15);
  const odd = i % 2 === 1;
  return [
    odd
      ? `Chapter ${i + 2} reviews the ${d.city} depot, which covers ${d.area}. The depot employed ${staff} people and ran ${vans} delivery vans in 2025. It handled ${parcels} million parcels, ${growth} per cent more than the year before. ${d.manager} has managed it for the ${ORDINALS[i % ORDINALS.length]} year.`
      : `The ${d.city} depot serves ${d.area}, and this chapter sets out how its year went. With ${staff} staff and a fleet of ${vans} vans it delivered ${parcels} million parcels in 2025, a rise of ${growth} per cent. ${d.manager} led the depot for the ${ORDINALS[i % ORDINALS.length]} year in a row.`,
    `Most of the ${d.city} volume came from ${d.mix}. These senders book collections every weekday, and several of them asked for later collection times so that orders placed in the afternoon still leave the same day. The depot moved its last trunk departure to half past nine in the evening to make room for them, which meant changing the shift pattern of the night sorting team.`,
    odd
      ? `Deliveries arrived on the promised day for ${onTime} per cent of ${d.city} parcels, and ${firstAttempt} per cent were delivered at the first attempt. Most missed first attempts were parcels too large for a letterbox at addresses where nobody was home. Drivers now offer a neighbour or a safe place before they leave a card, and the share of parcels taken back to the depot fell over the year.`
      : `On-time delivery in ${d.city} reached ${onTime} per cent, and ${firstAttempt} per cent of parcels were handed over at the first attempt. Addresses without anyone at home remain the main cause of second attempts. Since the spring, customers can choose a safe place or a neighbour in the tracking page before the van sets out, and fewer parcels now come back to the depot at night.`,
    `The peak season tested the ${d.city} team: ${d.peak}. The depot hired temporary staff from the middle of November, opened the sorting hall on Sundays and borrowed vans from neighbouring depots for the last ten days before Christmas. Despite the disruption, the depot cleared its backlog by the twenty-third of December and no parcel posted in time missed the holiday.`,
    odd
      ? `Electric vans made up ${electric} per cent of the ${d.city} fleet by December. They cover the shorter urban rounds, while diesel vans still run the longest routes because charging on the road is not yet reliable. The depot installed more chargers in its yard in the summer, and the drivers of electric vans received training in planning their charge across a full round.`
      : `By the end of the year ${electric} per cent of the vans in ${d.city} were electric. The depot gives them the compact rounds near the centre and keeps diesel vans for the long runs, where a flat battery would strand a driver far from a charger. New chargers were fitted in the yard during the summer, and every electric van driver took a course on planning charge over the day.`,
    `Safety stayed the first item on every ${d.city} shift briefing. The depot recorded ${injuries} injuries that kept someone off work for a day or more, most of them strains from lifting heavy parcels out of the back of a van. Every driver now has a lifting aid in the van for parcels over twenty-five kilograms, and supervisors check its use on their regular ride-alongs.`,
    odd
      ? `Customers in ${d.city} made ${complaints} complaints for every ten thousand parcels. The most common complaint was a parcel marked as delivered that the customer could not find, usually because it had been left with a neighbour without a note. The depot now asks drivers to take a photograph of every parcel they leave outside a door or with a neighbour.`
      : `The ${d.city} depot received ${complaints} complaints per ten thousand parcels. A parcel shown as delivered but not found was again the leading cause, most often a parcel left in a porch or a bin store. A photograph of the parcel where it was left is now taken at every such delivery, and the customer service team can see it when a customer calls.`,
    `Returns are a growing share of the work in ${d.city}. Customers sending back online orders now hand in about one parcel for every eight the depot delivers, and the busiest weeks for returns come straight after the sales in January. The depot sorts returns on a separate belt so that they reach the retailers within two working days.`,
    odd
      ? `The ${d.city} depot spent ${(1.2 + 0.15 * i).toFixed(2)} pounds on each parcel it delivered, a little less than a year earlier because the vans carried fuller loads. Fuel and energy costs fell after the switch to electric vans on the shorter rounds, while the cost of temporary staff in the peak season rose again.`
      : `Costs in ${d.city} came to ${(1.2 + 0.15 * i).toFixed(2)} pounds a parcel, slightly down on the year before thanks to fuller vans. Spending on energy fell where electric vans replaced diesel ones, but agency staff hired for the peak season cost more per hour than in any earlier year.`,
    odd
      ? `New handheld scanners reached ${d.city} in the third quarter. They read damaged labels more reliably and send the photograph of a delivery straight to the tracking page, so the customer sees it within a minute. Drivers asked for a brighter screen for winter mornings, and the supplier has promised one for the next batch.`
      : `In ${d.city} the handheld scanners were replaced in the third quarter. The new ones cope better with torn or wet labels, upload the proof of delivery at once and warn the driver when a parcel is loaded on the wrong van. Drivers found the screens hard to read in low winter light, which the supplier will fix in the next batch.`,
    `Road works and congestion shaped the rounds in ${d.city} more than the weather did. The planning team rebuilt the routes twice during the year, once for the spring road works and once for the autumn school run, and each time the average round came back within ten minutes of its planned length within a fortnight.`,
    `The depot took part in the life of ${d.city} as well. Staff volunteered at food banks during the winter, the yard hosted a safety day for cyclists in the spring, and the depot sponsored a youth football team. Two schools visited the sorting hall to see how a parcel travels from the sender to the door.`,
    `Staff turnover in ${d.city} was ${turnover} per cent, and the depot spent an average of ${hours} hours of training on each employee. New drivers spend their first week with an experienced colleague before they take a round of their own, and the depot offers van drivers a route into supervision after two years of service.`,
    `One problem stood out in ${d.city} this year: ${d.issue}. The depot reported it to the regional operations board in the spring and agreed a plan with the property team and the engineering contractors. Work was finished by the autumn, and the cost is included in the capital figures in the final chapter.`,
    odd
      ? `For 2026 the ${d.city} depot will start ${d.project}, together with ${d.partner}. The project is meant to cut the distance driven for each parcel and to give customers more choice about where and when they collect. A first report on its results is due in the autumn.`
      : `Next year ${d.city} plans ${d.project}, working with ${d.partner}. The aim is fewer miles driven per parcel and more choice for customers about how they receive their parcels. The depot will report on the first six months of the project to the operations board in October.`,
  ];
}

const INTRODUCTION = [
  'This review covers the twelve regional depots of the carrier for the year 2025. It describes for each depot the volumes it handled, how reliably it delivered, the state of its fleet, the safety of its staff and the complaints of its customers. It closes with the plans for 2026 and the investment they need.',
  'Parcel volumes grew in every region for the third year in a row, driven by online retail and by small businesses that sell through marketplaces. Across the network the depots handled just over fifty million parcels, and the share of parcels delivered on the promised day stayed above ninety per cent in every month except December.',
];

const CLOSING = [
  'Across the twelve depots the capital spent in 2025 came to fourteen million pounds, most of it on electric vans, chargers and repairs to depot buildings. The board approved a similar sum for 2026, with priority for the chargers and the projects described in each chapter.',
  'The operations board will review the depots again at the end of 2026. Each depot manager will report on the project started in their region, on delivery at the first attempt and on the share of electric vans in the fleet.',
];

/** About 60,000 characters, at most the longest document-summary takes. */
export function longDepotReview(maxChars = 60_000): { title: string; text: string } {
  const closing = CLOSING.join('\n\n');
  const paragraphs = [...INTRODUCTION];
  let length = paragraphs.join('\n\n').length;
  const body = DEPOTS.flatMap((d, i) => chapter(d, i));
  for (const p of body) {
    if (length + 2 + p.length + 2 + closing.length > maxChars) break;
    paragraphs.push(p);
    length += 2 + p.length;
  }
  return { title: 'Regional depots: annual operations review 2025', text: [...paragraphs, closing].join('\n\n') };
}

// ---------------------------------------------------------------------------------------------
// Answers built from the prompt, each valid for its call: the part's lead sentences, and the
// first sentences of the summaries given, spread from the first to the last.

const SENTENCE_END = /(?<=[.!?])\s+/;

function lastUserMessage(body: ChatBody): string {
  return body.messages[body.messages.length - 1]!.content;
}

/** The body of the user-text block `<tag …>` of a prompt. */
function block(prompt: string, tag: string): string {
  const m = new RegExp(`<${tag}[^>]*source="user">\\n([\\s\\S]*?)\\n</${tag}>`).exec(prompt);
  if (!m) throw new Error(`no <${tag}> block in the prompt`);
  return m[1]!;
}

/** The numbered summaries of a combine prompt, in order. */
function summariesIn(prompt: string): string[] {
  return block(prompt, 'summaries')
    .split('\n')
    .map((line) => /^\d+\. (.*)$/.exec(line)?.[1])
    .filter((s): s is string => s !== undefined);
}

const firstSentence = (s: string) => s.split(SENTENCE_END)[0]!;

function words(s: string): string[] {
  return s.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 2);
}

/** Two sentences that say nearly the same (a depot's template with other figures): half their words shared, or a run of five. */
function alike(a: string, b: string): boolean {
  const wa = words(a);
  const wb = words(b);
  const sb = new Set(wb);
  const shared = new Set(wa.filter((w) => sb.has(w))).size;
  if (shared / new Set([...wa, ...wb]).size >= 0.5) return true;
  const runs = new Set(wb.slice(0, -4).map((_, k) => wb.slice(k, k + 5).join(' ')));
  return wa.slice(0, -4).some((_, k) => runs.has(wa.slice(k, k + 5).join(' ')));
}

/** Up to `count` distinct sentences, the first of each summary, spread from the first summary to the last. */
function spread(summaries: readonly string[], count: number): string[] {
  const firsts = summaries.map(firstSentence);
  const picked: string[] = [];
  const step = Math.max(1, (firsts.length - 1) / Math.max(1, count - 1));
  for (let k = 0; picked.length < count && Math.round(k * step) < firsts.length; k++) {
    const s = firsts[Math.round(k * step)]!;
    if (!picked.some((p) => alike(p, s))) picked.push(s);
  }
  for (const s of firsts) if (picked.length < count && !picked.some((p) => alike(p, s))) picked.push(s);
  return picked;
}

/** Whole sentences, in order, as many as fit `maxChars`. */
function within(sentences: readonly string[], maxChars: number): string {
  let out = '';
  for (const s of sentences) {
    const next = out === '' ? s : `${out} ${s}`;
    if (next.length > maxChars) break;
    out = next;
  }
  return out;
}

/** Sentences in the order of the summaries they came from. */
function inOrder(sentences: readonly string[], summaries: readonly string[]): string[] {
  const at = (s: string) => summaries.findIndex((x) => x.startsWith(s));
  return [...sentences].sort((a, b) => at(a) - at(b));
}

/** Answers summarize_chunk, summarize_section and combine_summaries from their prompts. */
export function answerDocumentSummaryFromPrompts(model: ScriptedModelServer): void {
  model.otherwise('summarize_chunk', (body) => {
    const part = block(lastUserMessage(body), 'part');
    return { content: JSON.stringify({ summary: within(part.split(SENTENCE_END), 400) }) };
  });
  model.otherwise('summarize_section', (body) => {
    const summaries = summariesIn(lastUserMessage(body));
    return { content: JSON.stringify({ summary: within(inOrder(spread(summaries, 5), summaries), 700) }) };
  });
  model.otherwise('combine_summaries', (body) => {
    const summaries = summariesIn(lastUserMessage(body));
    const points = spread(summaries, 4).filter((s) => s.length >= 10 && s.length <= 200);
    return { content: JSON.stringify({ summary: within(inOrder(spread(summaries, 6), summaries), 900), keyPoints: points }) };
  });
}
